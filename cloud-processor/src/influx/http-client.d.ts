import type { HttpAnswer } from './response.js';
export interface HttpCall {
    readonly method: 'GET' | 'POST';
    readonly url: URL;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: Buffer;
}
/**
 * A small HTTP client for InfluxDB: keep-alive connections (at most `maxSockets`), a timeout per
 * request. Network failures and timeouts reject with RetryableError (the write may or may not
 * have happened; resending is safe because a point with the same identity overwrites itself).
 */
export declare class HttpClient {
    private readonly timeoutMs;
    private readonly agent;
    private readonly secure;
    constructor(base: URL, maxSockets: number, timeoutMs: number);
    call(c: HttpCall): Promise<HttpAnswer>;
    /** Closes idle connections; requests in flight finish or fail. */
    close(): void;
}
