import {
  encodeSerialLine,
  encodeTelemetry,
  type FirmwareFormat,
  type MalformedKindName,
  type Telemetry,
} from '@tributary/firmware-schemas';
import type { Rng } from './rng.js';
import { sensorKinds } from './signals/kinds.js';

/** What a device's clock stamps on a reading taken at simulated time `ts`; undefined: no clock. */
export type DeviceClock = (ts: number) => number | undefined;

export const syncedClock: DeviceClock = (ts) => ts;
export const noClock: DeviceClock = () => undefined;

/** A clock `offsetMs` off that gains `driftPpm` millionths from `startMs` on (monotonic for |drift| < 10⁶). */
export function skewedClock(startMs: number, offsetMs: number, driftPpm: number): DeviceClock {
  return (ts) => Math.round(ts + offsetMs + ((ts - startMs) * driftPpm) / 1e6);
}

/** Encodes telemetry in a device's firmware format (a serial line ends in CR LF). */
export function encodeFrame(format: FirmwareFormat, t: Telemetry): string {
  return format === 'json' ? encodeTelemetry(t) : encodeSerialLine(t);
}

/**
 * A malformed payload in place of `t`, as broken firmware or a noisy line produces it:
 * - `bad-json`: cut short (JSON without its closing braces; a serial line without `*` and checksum);
 * - `bad-checksum`: one byte changed (a serial line whose checksum no longer matches; over MQTT a
 *   corrupted structural byte, so the JSON does not parse);
 * - `out-of-range`: well-formed, with one value outside its sensor's physical range.
 * Every result is rejected by the receiver's decoder or range filter, never silently accepted.
 */
export function corruptFrame(kind: MalformedKindName, format: FirmwareFormat, t: Telemetry, rng: Rng): string {
  if (kind === 'out-of-range') {
    // A metric still in range, so exactly one more reading is out of range (unless none is left).
    const inRange = Object.keys(t.values).filter((m) => {
      const range = sensorKinds[m as keyof typeof sensorKinds]?.range;
      return range !== undefined && t.values[m]! >= range.min && t.values[m]! <= range.max;
    });
    const metric = rng.pick(inRange.length > 0 ? inRange : Object.keys(t.values));
    const glitches = sensorKinds[metric as keyof typeof sensorKinds]?.glitches ?? [-1e9];
    return encodeFrame(format, { ...t, values: { ...t.values, [metric]: rng.pick(glitches) } });
  }
  const good = encodeFrame(format, t);
  if (format === 'serial') {
    const star = good.lastIndexOf('*');
    if (kind === 'bad-json') return `${good.slice(0, rng.int(1, star - 1))}\r\n`;
    // Change one digit of a value: the XOR over the body changes, the stated checksum does not.
    const digits: number[] = [];
    for (let i = good.indexOf('=') + 1; i < star; i++) if (good[i]! >= '0' && good[i]! <= '9') digits.push(i);
    const at = rng.pick(digits);
    const replacement = String((Number(good[at]) + rng.int(1, 9)) % 10);
    return good.slice(0, at) + replacement + good.slice(at + 1);
  }
  if (kind === 'bad-json') return good.slice(0, rng.int(1, good.length - 2));
  // Structural bytes whose corruption always breaks the JSON: the first and last brace, the colon after "values".
  const positions = [0, good.length - 1, good.indexOf('"values":') + 8];
  const at = rng.pick(positions);
  return `${good.slice(0, at)}\u00a4${good.slice(at + 1)}`;
}

/** Offline periods of a device (simulated time), a Poisson process of `ratePerDay`. */
export function planOutages(
  rng: Rng,
  startMs: number,
  endMs: number,
  ratePerDay: number,
  meanOutageMs: number,
): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  if (ratePerDay <= 0) return out;
  let t = startMs;
  for (;;) {
    t += -Math.log(1 - rng.next()) * (86_400_000 / ratePerDay);
    const end = t + Math.max(1_000, -Math.log(1 - rng.next()) * meanOutageMs);
    if (end >= endMs) break;
    out.push([Math.round(t), Math.round(end)]);
    t = end;
  }
  return out;
}
