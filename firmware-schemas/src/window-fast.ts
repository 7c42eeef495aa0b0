import { MAX_TIMESTAMP_MS, METRIC_NAME_MAX_LENGTH, MIN_TIMESTAMP_MS, DEVICE_ID_MAX_LENGTH } from './ids.js';
import type { OutOfRangeWindow, WindowResult } from './batch.js';

/**
 * The window validator's fast path: the checks of `WindowResultSchema` written out by hand for a
 * window as an agent sends it (a decoded JSON or CBOR object), answering only for windows that are
 * plainly valid. Anything it is not sure of — a device id with a character beyond U+00FF, a wrong
 * type, a value out of range, a reserved metric name — returns undefined, and the caller asks the
 * schema, which decides and words the error. So this file can make a window faster, never change
 * its outcome: a property test checks that both give the same result on arbitrary input.
 *
 * The result has the schema's keys only (unknown keys are dropped, as the schema drops them),
 * `rev` defaulting to 0, optional keys present only when given: the input itself when it is that
 * already (as agents send windows), else a new object.
 */
export function fastWindow(input: unknown): WindowResult | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const w = input as Record<string, unknown>;
  const { device, metric, start, end, count, sum, min, max, mean, m2, first, last, firstTs, lastTs } = w;
  if (!plainDevice(device) || !plainMetric(metric)) return undefined;
  if (Object.is(count, 0)) return outOfRangeOnly(w, device, metric); // -0 is the schema's to judge
  if (!epochMs(start) || !epochMs(end) || !epochMs(firstTs) || !epochMs(lastTs) || end <= start) return undefined;
  if (!Number.isSafeInteger(count) || (count as number) < 1) return undefined;
  if (!finite(sum) || !finite(min) || !finite(max) || !finite(mean) || !finite(m2) || !finite(first) || !finite(last))
    return undefined;
  if (m2 < 0 || min > max) return undefined;
  const rev = w.rev === undefined ? 0 : w.rev;
  if (!Number.isSafeInteger(rev) || (rev as number) < 0) return undefined;
  const { quantiles, outOfRange } = w;
  // A key present with the value undefined (CBOR can say so) is kept by the schema: its call.
  if ((quantiles === undefined && 'quantiles' in w) || (outOfRange === undefined && 'outOfRange' in w))
    return undefined;
  if (quantiles !== undefined) {
    if (typeof quantiles !== 'object' || quantiles === null || Array.isArray(quantiles)) return undefined;
    const { p50, p90, p99 } = quantiles as Record<string, unknown>;
    if (!finite(p50) || !finite(p90) || !finite(p99)) return undefined;
  }
  if (outOfRange !== undefined && (!Number.isSafeInteger(outOfRange) || (outOfRange as number) < 0)) return undefined;
  if (exactly(w)) return w as unknown as WindowResult;
  const window: WindowResult = {
    device,
    metric,
    start,
    end,
    count: count as number,
    sum,
    min,
    max,
    mean,
    m2,
    first,
    last,
    firstTs,
    lastTs,
    rev: rev as number,
  };
  if (quantiles !== undefined) {
    const { p50, p90, p99 } = quantiles as { p50: number; p90: number; p99: number };
    window.quantiles = { p50, p90, p99 };
  }
  if (outOfRange !== undefined) window.outOfRange = outOfRange as number;
  return window;
}

/** Keys of a window with readings: the ones that must be there, and the two that may. */
const READINGS_KEYS = 15;

/**
 * Whether a window with readings, its values judged valid, is already what the schema would make
 * of it: `rev` given, no key but the schema's (counted: every required one was read above), and
 * quantiles, when given, a plain object of p50, p90 and p99 only. Then it is kept as it is
 * instead of copied (a copy is a new object and new boxes for its doubles, a window each, for the
 * collector): how an agent sends its windows.
 */
function exactly(w: Record<string, unknown>): boolean {
  if (w.rev === undefined || Object.getPrototypeOf(w) !== Object.prototype) return false;
  const { quantiles, outOfRange } = w;
  let keys = 0;
  for (const _ in w) keys++;
  const expected = READINGS_KEYS + (quantiles === undefined ? 0 : 1) + (outOfRange === undefined ? 0 : 1);
  if (keys !== expected) return false;
  if (quantiles === undefined) return true;
  if (Object.getPrototypeOf(quantiles) !== Object.prototype) return false;
  let q = 0;
  for (const _ in quantiles as object) q++;
  return q === 3;
}

/** An out-of-range-only window (count 0, OutOfRangeWindowSchema): its keys only, value statistics sent with it dropped as the schema drops them. */
function outOfRangeOnly(w: Record<string, unknown>, device: string, metric: string): OutOfRangeWindow | undefined {
  const { start, end, outOfRange } = w;
  if (!epochMs(start) || !epochMs(end) || end <= start) return undefined;
  if (!Number.isSafeInteger(outOfRange) || (outOfRange as number) < 1) return undefined;
  const rev = w.rev === undefined ? 0 : w.rev;
  if (!Number.isSafeInteger(rev) || (rev as number) < 0) return undefined;
  return { device, metric, start, end, count: 0, rev: rev as number, outOfRange: outOfRange as number };
}

function finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function epochMs(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= MIN_TIMESTAMP_MS && (x as number) <= MAX_TIMESTAMP_MS;
}

/**
 * A device id `deviceIdProblem` (ids.ts) would accept, judged only for characters up to U+00FF:
 * 1-64 of them, none a control character (C0, DEL, C1) or one of `/ + # \`. Anything beyond
 * U+00FF (a surrogate among them) is left to the schema.
 */
function plainDevice(id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > DEVICE_ID_MAX_LENGTH) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c > 0xff || c === 0x2f || c === 0x2b || c === 0x23 || c === 0x5c)
      return false;
  }
  return true;
}

/** A metric name METRIC_NAME_PATTERN accepts: a letter, then up to 63 letters, digits or `_`; not `anomaly` or `agent_stats`. */
function plainMetric(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > METRIC_NAME_MAX_LENGTH) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!letter && (i === 0 || !((c >= 0x30 && c <= 0x39) || c === 0x5f))) return false;
  }
  return name !== 'anomaly' && name !== 'agent_stats';
}
