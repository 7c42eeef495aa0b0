import { z } from 'zod';
import { DeviceId, EpochMs, MetricName } from './ids.js';
import { decodeJson } from './json.js';
import { parseWith, type Result } from './result.js';

export const AlertState = z.enum(['opened', 'updated', 'resolved']);
export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.output<typeof Severity>;

/**
 * One transition of an alert's lifecycle, on `tributary/v1/alerts/{device}/{metric}` (QoS 1) and
 * in the `anomaly` measurement. An alert is opened once, updated while the anomaly persists and
 * resolved once; it is never one message per point. Times are event time (the windows' time).
 */
export const AlertEventSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(200),
  state: AlertState,
  device: DeviceId,
  metric: MetricName,
  detector: z.string().min(1).max(64),
  severity: Severity,
  /** Anomaly score in [0, 1] of the window that caused this transition. */
  score: z.number().min(0).max(1),
  /** The value the detector judged (for example the window mean or max). */
  value: z.number(),
  openedAt: EpochMs,
  at: EpochMs,
  resolvedAt: EpochMs.optional(),
  message: z.string().max(500),
});

export type AlertEvent = z.output<typeof AlertEventSchema>;

export function decodeAlert(payload: string | Uint8Array): Result<AlertEvent> {
  const json = decodeJson(payload, 16 * 1024, 'alert');
  return json.ok ? parseWith(AlertEventSchema, json.value) : json;
}
