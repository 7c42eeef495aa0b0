import {
  deviceIdProblem,
  MAX_READING_MAGNITUDE,
  MAX_TIMESTAMP_MS,
  MAX_VALUES_PER_MESSAGE,
  METRIC_NAME_PATTERN,
  MIN_TIMESTAMP_MS,
} from './ids.js';
import { emptyReadings } from './readings.js';
import { fail, ok, type Result } from './result.js';
import type { Telemetry } from './telemetry.js';

/**
 * The serial line format, NMEA-style:
 *
 *   $TRB,<device>,<seq>,<ts>,<metric>=<value>[,<metric>=<value>...]*<checksum>\r\n
 *
 * `seq` and `ts` may be empty (devices without a counter or a clock). The checksum is the XOR of
 * every byte between `$` and `*` (both excluded), written as two hex digits, as in NMEA 0183.
 * A device id on the serial line may not contain `,`, `*` or `$`, which frame the line.
 */
export const SERIAL_TALKER = 'TRB';
/** Longest line (without CR LF) a reader must accept by default; a reader may allow longer ones. */
export const SERIAL_MAX_LINE_BYTES = 512;

/** XOR of the line's bytes as sent: its UTF-8 bytes, which for ASCII are its characters. */
export function xorChecksum(body: string): number {
  let x = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    // A character beyond ASCII is 2-4 bytes on the wire: XOR those, not its UTF-16 code unit.
    if (c > 0x7f) return xorBytes(Buffer.from(body, 'utf8'));
    x ^= c;
  }
  return x;
}

function xorBytes(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** Encodes telemetry as one serial line, CR LF included. */
export function encodeSerialLine(t: Telemetry): string {
  const fields = [
    SERIAL_TALKER,
    t.device,
    t.seq === undefined ? '' : String(t.seq),
    t.ts === undefined ? '' : String(t.ts),
  ];
  for (const [metric, value] of Object.entries(t.values)) fields.push(`${metric}=${value}`);
  const body = fields.join(',');
  return `$${body}*${hex2(xorChecksum(body))}\r\n`;
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const UNSIGNED = /^\d+$/;

/**
 * Decodes one line (with or without its CR LF). Never throws; every failure says what was wrong.
 */
export function decodeSerialLine(raw: string, maxBytes = SERIAL_MAX_LINE_BYTES): Result<Telemetry> {
  const line = raw.endsWith('\r\n') ? raw.slice(0, -2) : raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  const bytes = Buffer.byteLength(line);
  if (bytes > maxBytes) return fail('framing', `line is ${bytes} bytes, at most ${maxBytes} are allowed`);
  if (!line.startsWith('$')) return fail('framing', 'line does not start with "$"');
  const star = line.lastIndexOf('*');
  if (star < 0 || star !== line.length - 3)
    return fail('framing', 'line does not end with "*" and two checksum digits (truncated?)');
  const body = line.slice(1, star);
  const given = line.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(given)) return fail('framing', `checksum "${given}" is not two hex digits`);
  const expected = xorChecksum(body);
  if (parseInt(given, 16) !== expected)
    return fail('checksum', `checksum is ${given.toUpperCase()}, the line's bytes give ${hex2(expected)}`);

  const fields = body.split(',');
  if (fields[0] !== SERIAL_TALKER)
    return fail('framing', `line starts with "$${fields[0] ?? ''}", expected "$${SERIAL_TALKER}"`);
  if (fields.length < 5)
    return fail(
      'schema',
      `line has ${fields.length} fields, expected talker, device, seq, ts and at least one metric=value`,
    );
  const [, device = '', seqText = '', tsText = ''] = fields;
  const idProblem = deviceIdProblem(device);
  if (idProblem !== undefined) return fail('bad_id', idProblem);

  const out: { device: string; seq?: number; ts?: number; values: Record<string, number> } = {
    device,
    values: emptyReadings(),
  };
  if (seqText !== '') {
    const seq = Number(seqText);
    if (!UNSIGNED.test(seqText) || !Number.isSafeInteger(seq))
      return fail('schema', `seq "${seqText}" is not a non-negative integer`);
    out.seq = seq;
  }
  if (tsText !== '') {
    const ts = Number(tsText);
    if (!UNSIGNED.test(tsText) || ts < MIN_TIMESTAMP_MS || ts > MAX_TIMESTAMP_MS)
      return fail('schema', `ts "${tsText}" is not milliseconds since the epoch`);
    out.ts = ts;
  }
  const pairs = fields.slice(4);
  if (pairs.length > MAX_VALUES_PER_MESSAGE)
    return fail('schema', `line has ${pairs.length} readings, at most ${MAX_VALUES_PER_MESSAGE} are allowed`);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) return fail('schema', `field "${pair.slice(0, 40)}" is not metric=value`);
    const metric = pair.slice(0, eq);
    const valueText = pair.slice(eq + 1);
    if (!METRIC_NAME_PATTERN.test(metric))
      return fail('schema', `field "${pair.slice(0, 40)}" is not metric=value with a valid metric name`);
    if (!NUMBER.test(valueText))
      return fail('schema', `value of ${metric} "${valueText.slice(0, 40)}" is not a number`);
    const value = Number(valueText);
    if (!(Math.abs(value) <= MAX_READING_MAGNITUDE))
      return fail('schema', `value of ${metric} is beyond ±${MAX_READING_MAGNITUDE}`);
    if (Object.hasOwn(out.values, metric)) return fail('schema', `metric ${metric} appears twice`);
    out.values[metric] = value;
  }
  return ok(out);
}
