import type { InfluxConfig } from '@tributary/firmware-schemas';
import { HttpClient, type Body } from './http-client.js';
import { classifyWrite } from './response.js';

/**
 * Where line protocol goes: InfluxDB 1.x `/write` or the 2.x/3.x `/api/v2/write`. Both answer
 * through the same status mapping (`response.ts`) and throw the typed errors of `errors.ts`.
 */
export interface WriteTarget {
  /** For logs: the API, URL and database or bucket. */
  readonly description: string;
  /** True when `ensure` may create what is missing (a 404 on write is then repaired, not waited out). */
  readonly canCreate: boolean;
  /** Creates the database and retention policy when allowed and missing. */
  ensure(): Promise<void>;
  /** Resolves when InfluxDB accepted every line of `body` (newline-separated line protocol, ms timestamps; parts sent in order). */
  write(body: Body, gzipped: boolean): Promise<void>;
  /** Closes idle connections. */
  close(): void;
}

/** Joins `/write` or `/api/v2/write` to the URL's own path, so InfluxDB behind a path prefix works. */
export function endpoint(base: string, path: string, query: Record<string, string | undefined>): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/** POSTs a body of line protocol and throws the typed error its answer maps to. */
export async function postLines(
  client: HttpClient,
  url: URL,
  headers: Record<string, string>,
  body: Body,
  gzipped: boolean,
): Promise<void> {
  const h: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...headers };
  if (gzipped) h['content-encoding'] = 'gzip';
  const answer = await client.call({ method: 'POST', url, headers: h, body });
  const err = classifyWrite(answer);
  if (err) throw err;
}

/** Whether compressing request bodies pays: `always`, `never`, or `auto` — not when InfluxDB is on this host (it would only cost CPU on both ends). */
export function gzipPays(config: InfluxConfig): boolean {
  if (config.gzip !== 'auto') return config.gzip === 'always';
  const host = new URL(config.url).hostname;
  return !(host === 'localhost' || host === '[::1]' || /^127\./.test(host));
}

/** The credentials a target sends (and replay reads back with): v1 basic auth when a username is set, v2 `Token`. */
export function influxAuthHeaders(
  influx: Pick<InfluxConfig, 'api' | 'username' | 'password' | 'token'>,
): Record<string, string> {
  if (influx.api === 'v2') return influx.token === undefined ? {} : { authorization: `Token ${influx.token}` };
  return influx.username === undefined
    ? {}
    : { authorization: `Basic ${Buffer.from(`${influx.username}:${influx.password ?? ''}`).toString('base64')}` };
}

/** The client for a target: one keep-alive connection per request in flight, and one for setup. */
export function clientFor(config: InfluxConfig): HttpClient {
  return new HttpClient(new URL(config.url), config.maxInFlightRequests + 1, config.timeoutMs);
}
