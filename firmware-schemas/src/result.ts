import type { z } from 'zod';

/**
 * Why a decode failed, as a stable code the caller can count by, plus a sentence for people.
 * Decoders never throw: every failure comes back as one of these.
 */
export type DecodeErrorCode =
  | 'too_large'
  | 'bad_json'
  | 'schema'
  | 'framing'
  | 'checksum'
  | 'bad_id'
  /** A format version this build does not know (a newer agent or cloud): not the sender's fault. */
  | 'version';

export interface DecodeError {
  readonly code: DecodeErrorCode;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: DecodeErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

const MAX_SHOWN_INPUT = 40;

/** A short, printable rendering of a bad value: control characters are shown escaped. */
export function showValue(value: unknown): string {
  let text: string;
  if (value === undefined) return 'nothing';
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    // Nested deeper than the stack (a hostile payload), or a BigInt: String() of a nested array or
    // object recurses as deep and would throw too, so only its kind is named.
    text = Array.isArray(value)
      ? '[… nested too deeply to show]'
      : typeof value === 'object' && value !== null
        ? '{… nested too deeply to show}'
        : String(value);
  }
  return text.length > MAX_SHOWN_INPUT ? `${text.slice(0, MAX_SHOWN_INPUT)}…` : text;
}

/** `a.b[2].c` from a zod issue path. */
export function showPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Config keys whose values are secrets: never echoed in an error. */
const SECRET_KEY = /password|token|secret|credential/i;

/** Turns zod issues into one sentence per issue: `values.temperature: expected number, got "abc"`. */
export function describeZodError(error: z.ZodError, maxIssues = 3): string {
  const parts = error.issues.slice(0, maxIssues).map((issue) => {
    // A secret's value is never printed, even when it is the bad one.
    const secret = issue.path.some((k) => typeof k === 'string' && SECRET_KEY.test(k));
    const input = !('input' in issue) ? '' : secret ? ' (value hidden)' : ` (got ${showValue(issue.input)})`;
    // A bad record key ("Invalid key in record") carries the key schema's own, clearer message.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return `${showPath(issue.path)}: ${message}${input}`;
  });
  const more = error.issues.length - maxIssues;
  if (more > 0) parts.push(`and ${more} more`);
  return parts.join('; ');
}

/** Runs a zod schema and returns a Result with a worded error. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return ok(parsed.data);
  return fail('schema', describeZodError(parsed.error));
}
