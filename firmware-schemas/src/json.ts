import { fail, ok, type Result } from './result.js';

/** Bounded JSON.parse of a payload that never throws; `what` names the payload in the error. */
export function decodeJson(payload: string | Uint8Array, maxBytes: number, what: string): Result<unknown> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > maxBytes) return fail('too_large', `${what} is ${size} bytes, the limit is ${maxBytes}`);
  // A Buffer (what MQTT hands over) is decoded as it is; a plain Uint8Array gets a Buffer view first.
  const text =
    typeof payload === 'string'
      ? payload
      : Buffer.isBuffer(payload)
        ? payload.toString('utf8')
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (err) {
    return fail('bad_json', `${what} is not JSON: ${(err as Error).message}`);
  }
}
