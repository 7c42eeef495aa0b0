import type { AlertEvent, BatchEnvelope, WindowResult } from '@tributary/firmware-schemas';
import { LineBuilder } from './line-protocol.js';

/**
 * The InfluxDB schema (README, "InfluxDB schema"), as line protocol through the one encoder:
 * - one measurement per metric (`temperature`, `humidity`, ...); tags `agent`, `device`, `site`
 *   (when the agent has one) and `unit` (when configured for the metric); fields count (integer),
 *   sum, min, max, mean, stddev, first, last, p50/p90/p99 when the agent sent them, and
 *   out_of_range (integer, readings the agent's range filter removed) when above 0; the
 *   timestamp is the window's end.
 * - `anomaly`: one point per alert transition; tags detector, device, metric, severity, state.
 * - `agent_stats`: the agent's counters as integer fields, tags agent and site, at the batch's sentAt.
 * Point identity is (measurement, tags, time): a re-sent or corrected window overwrites itself.
 */
export const ANOMALY_MEASUREMENT = 'anomaly';
export const AGENT_STATS_MEASUREMENT = 'agent_stats';

/** The field names of a window point, as written here and read back by stored-rows.ts. */
export const WINDOW_FIELD = {
  count: 'count',
  sum: 'sum',
  min: 'min',
  max: 'max',
  mean: 'mean',
  stddev: 'stddev',
  first: 'first',
  last: 'last',
  p50: 'p50',
  p90: 'p90',
  p99: 'p99',
  outOfRange: 'out_of_range',
} as const;

/** The tag and field names of an anomaly point (one per alert transition). */
export const ANOMALY_FIELD = {
  detector: 'detector',
  device: 'device',
  metric: 'metric',
  severity: 'severity',
  state: 'state',
  alertId: 'alert_id',
  score: 'score',
  value: 'value',
  openedAt: 'opened_at',
  message: 'message',
} as const;

/** Sample standard deviation of a window, from Welford's m2. */
export function windowStddev(w: WindowResult): number {
  return w.count > 1 ? Math.sqrt(w.m2 / (w.count - 1)) : 0;
}

/** Encodes a batch's points: its windows, its agent's counters and the alerts it raised. */
export class PointEncoder {
  private readonly b = new LineBuilder();

  /** `units`: metric → unit tag value, for the metrics whose unit is known. */
  constructor(private readonly units: Readonly<Record<string, string>> = {}) {}

  /** Every line of a batch, in order: windows, agent stats, anomalies. */
  batch(batch: BatchEnvelope, alerts: readonly AlertEvent[]): string[] {
    const lines: string[] = [];
    for (const w of batch.windows) push(lines, this.window(batch, w));
    push(lines, this.agentStats(batch));
    for (const a of alerts) push(lines, this.anomaly(a));
    return lines;
  }

  window(batch: BatchEnvelope, w: WindowResult): string | undefined {
    const b = this.b.start(w.metric).tag('agent', batch.agent).tag('device', w.device).tag('site', batch.site).tag('unit', this.units[w.metric]);
    const f = WINDOW_FIELD;
    b.int(f.count, w.count).float(f.sum, w.sum).float(f.min, w.min).float(f.max, w.max).float(f.mean, w.mean).float(f.stddev, windowStddev(w)).float(f.first, w.first).float(f.last, w.last);
    if (w.quantiles) b.float(f.p50, w.quantiles.p50).float(f.p90, w.quantiles.p90).float(f.p99, w.quantiles.p99);
    // Readings the agent's range filter removed: replay needs them to alert as live did.
    if (w.outOfRange) b.int(f.outOfRange, w.outOfRange);
    return b.end(w.end);
  }

  agentStats(batch: BatchEnvelope): string | undefined {
    const b = this.b.start(AGENT_STATS_MEASUREMENT).tag('agent', batch.agent).tag('site', batch.site);
    for (const [name, value] of Object.entries(batch.counters)) b.int(name, value);
    return b.end(batch.sentAt);
  }

  anomaly(a: AlertEvent): string | undefined {
    const f = ANOMALY_FIELD;
    return this.b
      .start(ANOMALY_MEASUREMENT)
      .tag(f.detector, a.detector)
      .tag(f.device, a.device)
      .tag(f.metric, a.metric)
      .tag(f.severity, a.severity)
      .tag(f.state, a.state)
      .string(f.alertId, a.id)
      .float(f.score, a.score)
      .float(f.value, a.value)
      .int(f.openedAt, a.openedAt)
      .string(f.message, a.message)
      .end(a.at);
  }
}

function push(lines: string[], line: string | undefined): void {
  if (line !== undefined) lines.push(line);
}
