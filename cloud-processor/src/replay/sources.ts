import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RESERVED_MEASUREMENTS } from '@tributary/firmware-schemas';
import type { SeriesInput } from '../detection.js';
import { influxQuery, quoteIdentifier, stringLiteral, type InfluxReadTarget } from '../influx/query.js';
import { seriesNames, windowsOf } from '../influx/stored-rows.js';
import { influxAuthHeaders } from '../influx/target.js';
import { parseSeriesCsv } from '../nab/csv.js';

/** Points to replay, per agent (the live path keeps one event-time clock per agent). */
export type ReplayInput = Map<string, SeriesInput[]>;

export interface InfluxSelection extends InfluxReadTarget {
  /** Metrics (measurements); every metric in the database when empty. */
  readonly metrics: readonly string[];
  readonly device?: string | undefined;
  /** Time range, ms since the epoch; [from, to). */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/** The median spacing of a series' points: its window length when not stored. */
function typicalSpacing(ts: readonly number[]): number {
  const diffs = ts.slice(1).map((t, i) => t - ts[i]!).filter((d) => d > 0).sort((a, b) => a - b);
  return diffs.length === 0 ? 0 : diffs[diffs.length >> 1]!;
}

/**
 * Window points stored by the processor (see the README's schema), read back exactly as they
 * were written, per agent. The window length is the series' usual spacing.
 */
export async function fromInflux(sel: InfluxSelection): Promise<ReplayInput> {
  const metrics = sel.metrics.length > 0 ? [...sel.metrics] : (await seriesNames(sel, RESERVED_MEASUREMENTS, undefined, 0)).metrics;
  const where = [
    ...(sel.from === undefined ? [] : [`time >= ${sel.from}ms`]),
    ...(sel.to === undefined ? [] : [`time < ${sel.to}ms`]),
    ...(sel.device === undefined ? [] : [`${quoteIdentifier('device')} = ${stringLiteral(sel.device)}`]),
  ];
  const out: ReplayInput = new Map();
  for (const metric of metrics) {
    const q = `SELECT * FROM ${quoteIdentifier(metric)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY "device", "agent"`;
    for (const s of await influxQuery(sel, q)) {
      const windows = windowsOf(s);
      const lengthMs = typicalSpacing(windows.map((w) => w.ts));
      const agent = s.tags?.agent ?? '';
      const list = out.get(agent) ?? out.set(agent, []).get(agent)!;
      for (const w of windows) {
        list.push({
          device: s.tags?.device ?? '',
          metric,
          ts: w.ts,
          lengthMs,
          value: w.mean,
          min: w.min,
          max: w.max,
          stddev: w.stddev,
          count: w.count,
          ...(w.first === undefined ? {} : { first: w.first }),
          ...(w.last === undefined ? {} : { last: w.last }),
          outOfRange: w.outOfRange,
        });
      }
    }
  }
  return out;
}

/** A CSV of `timestamp,value` rows (the NAB format) as one raw series named after the file. */
export function fromCsv(path: string): { name: string; points: SeriesInput[] } {
  const name = basename(path).replace(/\.csv$/i, '');
  const points = parseSeriesCsv(readFileSync(path, 'utf8'), name).map((r) => ({ device: name, metric: 'value', ts: r.ts, lengthMs: 0, value: r.value, min: r.value, max: r.value, stddev: 0, count: 1 }));
  return { name, points };
}

/**
 * The config's InfluxDB credentials for a request to `url`: only when `url` is on the server the
 * config names (same scheme, host and port), so `--url` pointing elsewhere never receives them.
 */
export function influxAuthHeadersFor(url: string, influx: Parameters<typeof influxAuthHeaders>[0] & { url: string }): Record<string, string> {
  return new URL(url).origin === new URL(influx.url).origin ? influxAuthHeaders(influx) : {};
}

