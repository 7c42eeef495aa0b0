import { ANOMALY_FIELD, ANOMALY_MEASUREMENT, JUDGED_FIELD, WINDOW_FIELD } from './point-fields.js';
import { influxQuery, quoteIdentifier, stringLiteral, type InfluxReadTarget, type QuerySeries } from './query.js';
import type { WindowInput } from './window-input.js';

/**
 * Rows of the InfluxDB schema (point-fields.ts) read back as values: the reading side of the one module
 * that owns the measurement and field names. Replay and the dashboard read windows through here.
 */

/** A window point as stored: at its end (`ts`), with the fields the agent sent. */
export interface StoredWindow {
  readonly ts: number;
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly stddev: number;
  readonly first: number | undefined;
  readonly last: number | undefined;
  readonly p50: number | undefined;
  readonly p90: number | undefined;
  readonly p99: number | undefined;
  readonly outOfRange: number;
  /** The window's length, when stored (points written before length_ms was: undefined). */
  readonly lengthMs: number | undefined;
  /** 0 for a first emission, the revision of the last correction otherwise. */
  readonly rev: number;
  /** For a correction: what detection judged at the first emission (see JUDGED_FIELD). */
  readonly judged: Omit<WindowInput, 'device' | 'metric' | 'ts' | 'lengthMs'> | undefined;
}

/** An anomaly point: one alert transition. */
export interface StoredAlert {
  readonly at: number;
  readonly device: string;
  readonly metric: string;
  readonly id: string;
  readonly state: string;
  readonly severity: string;
  readonly detector: string;
  readonly score: number;
  readonly value: number | undefined;
  readonly openedAt: number | undefined;
  readonly message: string;
}

/** Reads a series' columns by name; a column the series lacks, or a null, reads as undefined. */
function columnsOf(series: QuerySeries): (row: readonly unknown[], name: string) => unknown {
  const index = new Map(series.columns.map((c, i) => [c, i]));
  return (row, name) => {
    const i = index.get(name);
    return i === undefined ? undefined : (row[i] ?? undefined);
  };
}

const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));

/** Every row of a window series (a `SELECT *` or a selection of WINDOW_FIELD columns, with `time`). */
export function windowsOf(series: QuerySeries): StoredWindow[] {
  const col = columnsOf(series);
  const f = WINDOW_FIELD;
  return series.values.map((row) => {
    // A window of out-of-range readings only has count 0 and no value field: NaN, as windowInput gives it.
    const mean = num(col(row, f.mean)) ?? Number.NaN;
    return {
      ts: Number(col(row, 'time')),
      count: num(col(row, f.count)) ?? 1,
      mean,
      min: num(col(row, f.min)) ?? mean,
      max: num(col(row, f.max)) ?? mean,
      stddev: num(col(row, f.stddev)) ?? noSpread(mean),
      first: num(col(row, f.first)),
      last: num(col(row, f.last)),
      p50: num(col(row, f.p50)),
      p90: num(col(row, f.p90)),
      p99: num(col(row, f.p99)),
      outOfRange: num(col(row, f.outOfRange)) ?? 0,
      lengthMs: num(col(row, f.lengthMs)),
      rev: num(col(row, f.rev)) ?? 0,
      judged: judgedOf(row, col),
    };
  });
}

function judgedOf(
  row: readonly unknown[],
  col: (row: readonly unknown[], name: string) => unknown,
): StoredWindow['judged'] {
  const j = JUDGED_FIELD;
  // judged_count is written with every judged input (judged_mean not, when the window had no value).
  const count = num(col(row, j.count));
  if (count === undefined) return undefined;
  const value = num(col(row, j.mean)) ?? Number.NaN;
  return {
    value,
    count,
    min: num(col(row, j.min)) ?? value,
    max: num(col(row, j.max)) ?? value,
    stddev: num(col(row, j.stddev)) ?? noSpread(value),
    ...optional('first', num(col(row, j.first))),
    ...optional('last', num(col(row, j.last))),
    outOfRange: num(col(row, j.outOfRange)) ?? 0,
  };
}

/** A stddev not stored: 0 beside a value (raw rows), NaN for a window without one (windowInput's). */
const noSpread = (value: number): number => (Number.isNaN(value) ? Number.NaN : 0);

const optional = <K extends string>(key: K, v: number | undefined): { [P in K]?: number } =>
  v === undefined ? {} : ({ [key]: v } as { [P in K]: number });

/**
 * A stored window as detection takes it: the values detection judged live, so replay judges the
 * same: the first emission's (judged_*) for a corrected window, the stored aggregates otherwise.
 * `fallbackLengthMs` stands in for a length not stored (points written before length_ms was).
 */
export function storedInput(device: string, metric: string, w: StoredWindow, fallbackLengthMs: number): WindowInput {
  const lengthMs = w.lengthMs ?? fallbackLengthMs;
  if (w.judged !== undefined) return { device, metric, ts: w.ts, lengthMs, ...w.judged };
  return {
    device,
    metric,
    ts: w.ts,
    lengthMs,
    value: w.mean,
    min: w.min,
    max: w.max,
    stddev: w.stddev,
    count: w.count,
    ...optional('first', w.first),
    ...optional('last', w.last),
    outOfRange: w.outOfRange,
  };
}

/** Every row of an anomaly series. */
export function alertsOf(series: QuerySeries): StoredAlert[] {
  const col = columnsOf(series);
  const f = ANOMALY_FIELD;
  const text = (v: unknown): string => (v === undefined ? '' : String(v));
  return series.values.map((row) => ({
    at: Number(col(row, 'time')),
    device: text(col(row, f.device)),
    metric: text(col(row, f.metric)),
    id: text(col(row, f.alertId)),
    state: text(col(row, f.state)),
    severity: text(col(row, f.severity)),
    detector: text(col(row, f.detector)),
    score: num(col(row, f.score)) ?? 0,
    value: num(col(row, f.value)),
    openedAt: num(col(row, f.openedAt)),
    message: text(col(row, f.message)),
  }));
}

/** The last `limit` windows of one series (device and metric), oldest first, and its alert transitions over them. */
export async function recentWindows(
  target: InfluxReadTarget,
  metric: string,
  device: string,
  limit: number,
): Promise<{ windows: StoredWindow[]; alerts: StoredAlert[] }> {
  const where = `${quoteIdentifier('device')} = ${stringLiteral(device)}`;
  const columns = [WINDOW_FIELD.count, WINDOW_FIELD.mean, WINDOW_FIELD.min, WINDOW_FIELD.max, WINDOW_FIELD.p99]
    .map(quoteIdentifier)
    .join(', ');
  const series = await influxQuery(
    target,
    `SELECT ${columns} FROM ${quoteIdentifier(metric)} WHERE ${where} ORDER BY time DESC LIMIT ${limit}`,
  );
  const windows = series.flatMap(windowsOf).sort((a, b) => a.ts - b.ts);
  if (windows.length === 0) return { windows, alerts: [] };
  // Alerts from the first window's start (a window's length before its end, at most) to now.
  const from = windows[0]!.ts - (windows.length > 1 ? windows[1]!.ts - windows[0]!.ts : 0);
  const q = `SELECT * FROM ${quoteIdentifier(ANOMALY_MEASUREMENT)} WHERE ${where} AND ${quoteIdentifier(ANOMALY_FIELD.metric)} = ${stringLiteral(metric)} AND time >= ${from}ms ORDER BY time ASC LIMIT ${limit}`;
  return { windows, alerts: (await influxQuery(target, q)).flatMap(alertsOf) };
}

/** Metrics (measurements) with windows, and for one of them up to `limit` device names. */
export async function seriesNames(
  target: InfluxReadTarget,
  reserved: readonly string[],
  metric: string | undefined,
  limit: number,
): Promise<{ metrics: string[]; devices: string[] }> {
  const shown = await influxQuery(target, 'SHOW MEASUREMENTS');
  const metrics = (shown[0]?.values ?? []).map((v) => String(v[0])).filter((m) => !reserved.includes(m));
  if (metric === undefined || !metrics.includes(metric)) return { metrics, devices: [] };
  const tags = await influxQuery(
    target,
    `SHOW TAG VALUES FROM ${quoteIdentifier(metric)} WITH KEY = ${quoteIdentifier('device')} LIMIT ${limit}`,
  );
  return { metrics, devices: (tags[0]?.values ?? []).map((v) => String(v[1])) };
}

/** Alert openings (`anomaly` points in state `opened`), from `sinceMs` on when given: what a scorer counts. */
export async function openedAlerts(target: InfluxReadTarget, sinceMs?: number): Promise<StoredAlert[]> {
  const f = ANOMALY_FIELD;
  const since = sinceMs === undefined ? '' : ` AND time >= ${Math.floor(sinceMs)}ms`;
  const q = `SELECT * FROM ${quoteIdentifier(ANOMALY_MEASUREMENT)} WHERE ${quoteIdentifier(f.state)} = ${stringLiteral('opened')}${since}`;
  return (await influxQuery(target, q)).flatMap(alertsOf);
}

/** Σ count over every window of the given metrics: the readings stored (tumbling windows). */
export async function readingsStored(target: InfluxReadTarget, metrics: readonly string[]): Promise<number> {
  if (metrics.length === 0) return 0;
  const series = await influxQuery(
    target,
    `SELECT sum(${quoteIdentifier(WINDOW_FIELD.count)}) FROM ${metrics.map(quoteIdentifier).join(',')}`,
  );
  return series.reduce((n, s) => n + Number(s.values[0]?.[1] ?? 0), 0);
}
