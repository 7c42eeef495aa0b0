import type { InfluxConfig } from '@tributary/firmware-schemas';
import { HttpClient } from './http-client.js';
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
    /** Resolves when InfluxDB accepted every line of `body` (newline-separated line protocol, ms timestamps). */
    write(body: Buffer, gzipped: boolean): Promise<void>;
    /** Closes idle connections. */
    close(): void;
}
/** Joins `/write` or `/api/v2/write` to the URL's own path, so InfluxDB behind a path prefix works. */
export declare function endpoint(base: string, path: string, query: Record<string, string | undefined>): URL;
/** POSTs a body of line protocol and throws the typed error its answer maps to. */
export declare function postLines(client: HttpClient, url: URL, headers: Record<string, string>, body: Buffer, gzipped: boolean): Promise<void>;
/** Whether compressing request bodies pays: `always`, `never`, or `auto` — not when InfluxDB is on this host (it would only cost CPU on both ends). */
export declare function gzipPays(config: InfluxConfig): boolean;
/** The credentials a target sends (and replay reads back with): v1 basic auth when a username is set, v2 `Token`. */
export declare function influxAuthHeaders(influx: Pick<InfluxConfig, 'api' | 'username' | 'password' | 'token'>): Record<string, string>;
/** The client for a target: one keep-alive connection per request in flight, and one for setup. */
export declare function clientFor(config: InfluxConfig): HttpClient;
