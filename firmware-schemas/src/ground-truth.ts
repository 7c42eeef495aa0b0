import { z } from 'zod';
import { ANOMALY_KINDS } from './config/fleet.js';
import { DeviceId, EpochMs, MetricName } from './ids.js';
import { decodeJson } from './json.js';
import { fail, parseWith, type Result } from './result.js';

/**
 * One injected anomaly, one JSON line of a ground-truth file: which series, what kind, from
 * `start` to `end` (event time, ms, both inclusive; a one-reading anomaly has start = end) and
 * its size in the sensor's unit. Written by the simulator, read by every scorer.
 */
export const GroundTruthSchema = z.object({
  device: DeviceId,
  metric: MetricName,
  kind: z.enum(ANOMALY_KINDS),
  start: EpochMs,
  end: EpochMs,
  magnitude: z.number(),
});
export type GroundTruth = z.output<typeof GroundTruthSchema>;

/** Parses a ground-truth file (JSON lines); a bad line is an error naming its number. */
export function decodeGroundTruth(text: string): Result<GroundTruth[]> {
  const out: GroundTruth[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const json = decodeJson(line, 64 * 1024, `line ${i + 1}`);
    const r = json.ok ? parseWith(GroundTruthSchema, json.value) : json;
    if (!r.ok) return fail(r.error.code, `line ${i + 1}: ${r.error.message}`);
    out.push(r.value);
  }
  return { ok: true, value: out };
}
