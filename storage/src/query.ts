/**
 * Reading InfluxDB back with InfluxQL (GET `/query`, InfluxDB 1.x, and 2.x/3.x through their 1.x
 * compatibility API): replay and the dashboard both read through here.
 */
export interface InfluxReadTarget {
  readonly url: string;
  readonly database: string;
  /** Sent with every query (the processor config's InfluxDB credentials). */
  readonly headers?: Record<string, string>;
  /** Abandons a query that takes longer (ms); none by default. */
  readonly timeoutMs?: number;
}

/** One series of a query's answer: columns, rows, and the tags it was grouped by. */
export interface QuerySeries {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

/** The series of one InfluxQL statement's answer; throws naming InfluxDB's error. */
export async function influxQuery(target: InfluxReadTarget, q: string): Promise<QuerySeries[]> {
  const url = `${target.url.replace(/\/+$/, '')}/query?${new URLSearchParams({ db: target.database, q, epoch: 'ms' })}`;
  const res = await fetch(url, {
    headers: target.headers ?? {},
    ...(target.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(target.timeoutMs) }),
  });
  if (!res.ok) throw new Error(`InfluxDB query failed with HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const body = (await res.json()) as { results: Array<{ error?: string; series?: QuerySeries[] }> };
  const first = body.results[0];
  if (first?.error) throw new Error(`InfluxDB query error: ${first.error}`);
  return first?.series ?? [];
}

/** An InfluxQL string literal (backslash and single quote escaped: InfluxQL spec, "Strings"). */
export const stringLiteral = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** An InfluxQL identifier in double quotes (InfluxQL spec, "Identifiers"). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
