import { type InfluxWriteError } from './errors.js';
/** An HTTP answer as the targets read it (header names in lower case). */
export interface HttpAnswer {
    readonly status: number;
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    readonly body: string;
}
/**
 * What a write answer means, mapped as Telegraf's InfluxDB outputs do (plugins/outputs/influxdb
 * and influxdb_v2, http.go): 2xx written; 400/422 and other 4xx the points are refused, and with
 * "partial write" in the body the rest of the request was written (InfluxDB 1.x answers
 * 400 `{"error":"partial write: field type conflict: ... dropped=N"}`, 2.x answers
 * 422 `{"code":"unprocessable entity","message":"failure writing points to database: partial write: ..."}`,
 * 3.x and Cloud 400 `{"code":"invalid",...}`); 401/403 credentials; 404 database or bucket
 * missing; 413 too large, split; 408, 429 and 5xx retry after max(Retry-After, backoff).
 * Returns undefined for success.
 */
export declare function classifyWrite(answer: HttpAnswer, nowMs?: number): InfluxWriteError | undefined;
/** The server's words: `error` (1.x), `message` (2.x/3.x) of a JSON body, else the text itself. */
export declare function errorText(body: string): string;
