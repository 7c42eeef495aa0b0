/**
 * The InfluxDB schema (docs/influxdb.md), its names as the encoder (points.ts) writes them and
 * stored-rows.ts reads them back:
 * - one measurement per metric (`temperature`, `humidity`, ...); tags `agent`, `device`, `site`
 *   (when the agent has one) and `unit` (when configured for the metric); fields count (integer),
 *   sum, min, max, mean, stddev, first, last, p50/p90/p99 when the agent sent them, and
 *   out_of_range (integer, readings the agent's range filter removed) when above 0, length_ms
 *   (integer, the window's length: with sliding windows the spacing of points is the slide, not
 *   the length); the timestamp is the window's end. A window whose every reading was out of range
 *   has count 0, out_of_range and length_ms only: no value field (nothing NaN or made up, and
 *   `mean()`, `min()` … over the series see only windows with readings). A correction (`rev` > 0) overwrites the
 *   aggregates and adds `rev` and, once, the values detection judged at the first emission
 *   (`judged_*`), so replay judges what the live path judged (see JUDGED_FIELD).
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
  lengthMs: 'length_ms',
  rev: 'rev',
} as const;

/**
 * Live detection judges a window at its first emission; a correction re-emitted after late
 * readings is written over the point (InfluxDB keeps the last revision, so queries see the
 * corrected aggregates) and is not judged again: it is history by the time it arrives. A
 * correction's point therefore also carries the detector input judged at the first emission under
 * these names (InfluxDB merges the field sets of points with one series and time, so they survive
 * later revisions), and replay reads them in place of the corrected values.
 */
export const JUDGED_FIELD = {
  count: 'judged_count',
  mean: 'judged_mean',
  min: 'judged_min',
  max: 'judged_max',
  stddev: 'judged_stddev',
  first: 'judged_first',
  last: 'judged_last',
  outOfRange: 'judged_out_of_range',
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
