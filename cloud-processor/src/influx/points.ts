import type { AlertEvent, BatchEnvelope, WindowResult } from '@tributary/firmware-schemas';
import { FieldType, type IPoint, type ISchemaOptions } from 'influx';

/**
 * The InfluxDB schema (see README, "InfluxDB schema"):
 * - one measurement per metric (`temperature`, `humidity`, ...), tags `device`, `agent` and `site`
 *   (when the agent has one), fields count (integer), sum, min, max, mean, stddev, first, last and
 *   the quantiles when the agent sent them; the timestamp is the window's end.
 * - `anomaly`: one point per alert transition, tags device, metric, detector, severity, state.
 * - `agent_stats`: the agent's counters as integer fields, tags agent and site, at the batch's sentAt.
 * Point identity is (measurement, tags, time): a re-sent or corrected window overwrites itself.
 */
export const WINDOW_FIELDS = {
  count: FieldType.INTEGER,
  sum: FieldType.FLOAT,
  min: FieldType.FLOAT,
  max: FieldType.FLOAT,
  mean: FieldType.FLOAT,
  stddev: FieldType.FLOAT,
  first: FieldType.FLOAT,
  last: FieldType.FLOAT,
  p50: FieldType.FLOAT,
  p90: FieldType.FLOAT,
  p99: FieldType.FLOAT,
} as const;

export const ANOMALY_MEASUREMENT = 'anomaly';
export const AGENT_STATS_MEASUREMENT = 'agent_stats';

/** node-influx schemas: they make `count` an integer and reject stray fields and tags. */
export function windowSchema(database: string, metric: string): ISchemaOptions {
  return { database, measurement: metric, fields: WINDOW_FIELDS, tags: ['device', 'agent', 'site'] };
}

export function anomalySchema(database: string): ISchemaOptions {
  return {
    database,
    measurement: ANOMALY_MEASUREMENT,
    fields: { alert_id: FieldType.STRING, score: FieldType.FLOAT, value: FieldType.FLOAT, opened_at: FieldType.INTEGER, message: FieldType.STRING },
    tags: ['device', 'metric', 'detector', 'severity', 'state'],
  };
}

/** Sample standard deviation of a window, from Welford's m2. */
export function windowStddev(w: WindowResult): number {
  return w.count > 1 ? Math.sqrt(w.m2 / (w.count - 1)) : 0;
}

export function windowPoint(batch: BatchEnvelope, w: WindowResult): IPoint {
  const fields: Record<string, number> = {
    count: w.count,
    sum: w.sum,
    min: w.min,
    max: w.max,
    mean: w.mean,
    stddev: windowStddev(w),
    first: w.first,
    last: w.last,
  };
  if (w.quantiles) Object.assign(fields, w.quantiles);
  const tags: Record<string, string> = { device: w.device, agent: batch.agent };
  if (batch.site !== undefined) tags.site = batch.site;
  return { measurement: w.metric, tags, fields, timestamp: w.end };
}

export function agentStatsPoint(batch: BatchEnvelope): IPoint {
  const tags: Record<string, string> = { agent: batch.agent };
  if (batch.site !== undefined) tags.site = batch.site;
  return { measurement: AGENT_STATS_MEASUREMENT, tags, fields: batch.counters, timestamp: batch.sentAt };
}

export function anomalyPoint(alert: AlertEvent): IPoint {
  return {
    measurement: ANOMALY_MEASUREMENT,
    tags: { device: alert.device, metric: alert.metric, detector: alert.detector, severity: alert.severity, state: alert.state },
    fields: { alert_id: alert.id, score: alert.score, value: alert.value, opened_at: alert.openedAt, message: alert.message },
    timestamp: alert.at,
  };
}
