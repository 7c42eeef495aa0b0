import { z } from 'zod';
import {
  DeviceId,
  EpochMs,
  MAX_READING_MAGNITUDE,
  MAX_TIMESTAMP_MS,
  MAX_VALUES_PER_MESSAGE,
  METRIC_NAME_MESSAGE,
  METRIC_NAME_PATTERN,
  MIN_TIMESTAMP_MS,
  MetricName,
  Seq,
  deviceIdProblem,
} from './ids.js';
import { decodeJson } from './json.js';
import { readingsOf } from './readings.js';
import { fail, ok, parseWith, type Result } from './result.js';
import { scanTelemetry } from './telemetry-scan.js';

export const Reading = z
  .number()
  .min(-MAX_READING_MAGNITUDE, `readings beyond ±${MAX_READING_MAGNITUDE} are not plausible`)
  .max(MAX_READING_MAGNITUDE, `readings beyond ±${MAX_READING_MAGNITUDE} are not plausible`);
/** Default bound on one telemetry payload; sources may configure a smaller one. */
export const DEFAULT_MAX_TELEMETRY_BYTES = 4096;

/**
 * Device telemetry, published on `sensors/{device}/telemetry`, e.g.
 * `{"device":"th-0042","ts":1700000000123,"seq":42,"values":{"temperature":21.5,"humidity":40.2}}`.
 * `ts` and `seq` are optional: many devices have no clock. Unknown top-level keys are ignored so
 * newer firmware can add fields.
 */
export const TelemetrySchema = z.object({
  device: DeviceId,
  ts: EpochMs.optional(),
  seq: Seq.optional(),
  values: z
    .record(MetricName, Reading)
    .refine((v) => Object.keys(v).length > 0, 'values must hold at least one reading')
    .refine(
      (v) => Object.keys(v).length <= MAX_VALUES_PER_MESSAGE,
      `values may hold at most ${MAX_VALUES_PER_MESSAGE} readings`,
    ),
});

export type Telemetry = z.output<typeof TelemetrySchema>;

/**
 * Names already found valid. A fleet repeats the same few metric names and device ids millions of
 * times, so a set lookup replaces the regular expression after the first time. Bounded: cleared
 * when full (a pure cache; it changes no answer).
 */
class ValidNames {
  private readonly names = new Set<string>();
  constructor(private readonly max: number) {}
  has(name: string): boolean {
    return this.names.has(name);
  }
  add(name: string): void {
    if (this.names.size >= this.max) this.names.clear();
    this.names.add(name);
  }
}
const validMetrics = new ValidNames(1_024);
const validDevices = new ValidNames(65_536);

/**
 * The same rules as TelemetrySchema, written out by hand because this runs for every message on a
 * Raspberry Pi. It only answers "valid or not"; on "not", zod produces the worded reason. The test
 * suite checks that both agree.
 */
function isValidTelemetry(v: unknown): v is Telemetry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const device = o.device;
  if (typeof device !== 'string' || !validDevices.has(device)) {
    if (deviceIdProblem(device) !== undefined) return false;
    validDevices.add(device as string);
  }
  const ts = o.ts;
  if (
    ts !== undefined &&
    !(Number.isInteger(ts) && (ts as number) >= MIN_TIMESTAMP_MS && (ts as number) <= MAX_TIMESTAMP_MS)
  )
    return false;
  const seq = o.seq;
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) return false;
  const values = o.values;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return false;
  let n = 0;
  for (const key in values) {
    const x = (values as Record<string, unknown>)[key];
    if (typeof x !== 'number' || !(x >= -MAX_READING_MAGNITUDE && x <= MAX_READING_MAGNITUDE)) return false;
    if (!validMetrics.has(key)) {
      if (!METRIC_NAME_PATTERN.test(key)) return false;
      validMetrics.add(key);
    }
    n++;
  }
  return n > 0 && n <= MAX_VALUES_PER_MESSAGE;
}

/** The message with its readings in a readings object (readings.ts), as every decoder returns them. */
function withOwnValues(t: Telemetry): Telemetry {
  return { ...t, values: readingsOf(t.values) };
}

/** Validates an already-parsed JSON value as telemetry. The result's `values` is a readings object (readings.ts). */
export function validateTelemetry(value: unknown): Result<Telemetry> {
  if (isValidTelemetry(value)) return ok(withOwnValues(value));
  const parsed = parseWith(TelemetrySchema, value);
  const o = typeof value === 'object' && value !== null ? (value as { device?: unknown; values?: unknown }) : {};
  // A hostile or broken device id gets its own code so it can be counted apart from other schema errors.
  if (!parsed.ok && o.device !== undefined && deviceIdProblem(o.device) !== undefined)
    return fail('bad_id', parsed.error.message);
  // zod skips a record's `__proto__` key without a word (zod v4 $ZodRecord), so that reading would
  // vanish uncounted. JSON.parse makes it an own key like any other; it is no metric name.
  if (typeof o.values === 'object' && o.values !== null && Object.hasOwn(o.values, '__proto__'))
    return fail('schema', `values.__proto__: ${METRIC_NAME_MESSAGE}`);
  return parsed.ok ? ok(withOwnValues(parsed.value)) : parsed;
}

/** Decodes one MQTT telemetry payload; `values` is a readings object (readings.ts). Never throws. */
export function decodeTelemetry(
  payload: string | Uint8Array,
  maxBytes = DEFAULT_MAX_TELEMETRY_BYTES,
): Result<Telemetry> {
  if (typeof payload !== 'string' && payload.byteLength <= maxBytes) {
    const scanned = scanTelemetry(payload);
    if (scanned !== undefined) return ok(scanned);
  }
  const json = decodeJson(payload, maxBytes, 'payload');
  return json.ok ? validateTelemetry(json.value) : json;
}

export function encodeTelemetry(t: Telemetry): string {
  return JSON.stringify(t);
}
