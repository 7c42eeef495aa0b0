import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration } from '../duration.js';

/** A bad flag: the CLI prints the message and exits with status 2. */
export class CliError extends Error {
  readonly code = 'cli';
}

export function duration(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new CliError(`--${name} ${JSON.stringify(text)} is not a duration such as 90s, 15m, 2h or 1d`);
  return ms;
}

export function number(name: string, text: string, min: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min)
    throw new CliError(`--${name} ${JSON.stringify(text)} must be a number ≥ ${min}`);
  return n;
}

export const list = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** `spike=2,dip=1` or just `spike,dip` (weight 1 each), with names from `allowed`. */
export function weights(name: string, text: string, allowed: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list(text)) {
    const [key = '', w = '1'] = item.split('=');
    if (!allowed.includes(key)) throw new CliError(`--${name}: unknown "${key}" (one of ${allowed.join(', ')})`);
    out[key] = number(name, w, 0);
  }
  return out;
}

/** node:util parseArgs, with its errors (unknown flag, missing value) turned into a CliError. */
export function parseFlags<T extends ParseArgsConfig['options']>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T }>>['values'] {
  try {
    return parseArgs({ args, options }).values;
  } catch (err) {
    if (
      typeof (err as { code?: unknown }).code === 'string' &&
      (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')
    )
      throw new CliError((err as Error).message);
    throw err;
  }
}
