import { commandLineError, parseCommandLine } from '@tributary/runtime';

/**
 * The command line of the summary tools (heap-summary, profile-summary): `FILE [TOP]`, with
 * `--help` and bad input answered as every other command here (usage, exit 0 or 2, no stack trace).
 */
export function summaryArgs(program: string, usage: string): { file: string; top: number } {
  const { positionals } = parseCommandLine(program, usage, { options: {}, allowPositionals: true });
  const [file, topText = '25'] = positionals;
  if (file === undefined) commandLineError(program, usage, 'FILE is needed');
  const top = Number(topText);
  if (!Number.isInteger(top) || top < 1)
    commandLineError(program, usage, `TOP must be a whole number above 0, not ${topText}`);
  return { file, top };
}
