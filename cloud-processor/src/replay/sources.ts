import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { RESERVED_MEASUREMENTS } from '@tributary/firmware-schemas';
import type { SeriesInput } from '../detect/detection.js';
import { influxQuery, quoteIdentifier, stringLiteral, type InfluxReadTarget } from '@tributary/storage';
import { seriesNames, storedInput, windowsOf } from '@tributary/storage';
import { influxAuthHeaders } from '../influx/target.js';
import { parseSeriesCsv } from './csv.js';

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

/** The median spacing of a series' points: its window length for points stored without length_ms. */
function typicalSpacing(ts: readonly number[]): number {
  const diffs = ts
    .slice(1)
    .map((t, i) => t - ts[i]!)
    .filter((d) => d > 0)
    .sort((a, b) => a - b);
  return diffs.length === 0 ? 0 : diffs[diffs.length >> 1]!;
}

/**
 * Window points stored by the processor (storage's schema), read back per agent as detection
 * judged them live: each window's stored length (sliding windows are spaced by their slide, not
 * their length), and for a corrected window the values judged at its first emission.
 */
export async function fromInflux(sel: InfluxSelection): Promise<ReplayInput> {
  const metrics =
    sel.metrics.length > 0 ? [...sel.metrics] : (await seriesNames(sel, RESERVED_MEASUREMENTS, undefined, 0)).metrics;
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
      const fallbackLengthMs = typicalSpacing(windows.map((w) => w.ts));
      const agent = s.tags?.agent ?? '';
      const list = out.get(agent) ?? out.set(agent, []).get(agent)!;
      for (const w of windows) list.push(storedInput(s.tags?.device ?? '', metric, w, fallbackLengthMs));
    }
  }
  return out;
}

/** Raw rows of one series as detection takes them (count 1: each row is one reading). */
export function csvPoints(device: string, rows: readonly { ts: number; value: number }[]): SeriesInput[] {
  return rows.map((r) => ({
    device,
    metric: 'value',
    ts: r.ts,
    lengthMs: 0,
    value: r.value,
    min: r.value,
    max: r.value,
    stddev: 0,
    count: 1,
  }));
}

/**
 * The series name of each CSV path: its file name without `.csv`, with as many parent folders as
 * it takes to tell it from every other path given (`realTraffic/1` and `realKnownCause/1`), so two
 * files never become one series. The same file given twice is an error.
 */
export function csvSeriesNames(paths: readonly string[]): string[] {
  const parts = paths.map((p) =>
    resolve(p)
      .replace(/\.csv$/i, '')
      .split(sep),
  );
  const seen = new Map<string, string>();
  for (const [i, p] of paths.entries()) {
    const key = parts[i]!.join(sep);
    if (seen.has(key)) throw new Error(`${p}: given twice (also as ${seen.get(key)})`);
    seen.set(key, p);
  }
  return parts.map((segments) => {
    for (let k = 1; ; k++) {
      const name = segments.slice(-k).join('/');
      const clash = parts.some((other) => other !== segments && other.slice(-k).join('/') === name);
      if (!clash || k >= segments.length) return name;
    }
  });
}

/** CSV files of `timestamp,value` rows (the NAB format), each one raw series of its own agent, named by csvSeriesNames. */
export function fromCsvFiles(paths: readonly string[]): ReplayInput {
  const names = csvSeriesNames(paths);
  return new Map(paths.map((p, i) => [names[i]!, csvPoints(names[i]!, parseSeriesCsv(readFileSync(p, 'utf8'), p))]));
}

/**
 * The config's InfluxDB credentials for a request to `url`: only when `url` is on the server the
 * config names (same scheme, host and port), so `--url` pointing elsewhere never receives them.
 */
export function influxAuthHeadersFor(
  url: string,
  influx: Parameters<typeof influxAuthHeaders>[0] & { url: string },
): Record<string, string> {
  return new URL(url).origin === new URL(influx.url).origin ? influxAuthHeaders(influx) : {};
}
