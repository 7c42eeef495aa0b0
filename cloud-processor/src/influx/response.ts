import { retryAfterMs } from '@tributary/runtime';
import {
  AuthError,
  NotFoundError,
  PartialWriteError,
  PermanentError,
  RetryableError,
  TooLargeError,
  type InfluxWriteError,
} from './errors.js';

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
export function classifyWrite(answer: HttpAnswer, nowMs: number = Date.now()): InfluxWriteError | undefined {
  const { status } = answer;
  if (status >= 200 && status < 300) return undefined;
  const reason = `HTTP ${status}: ${errorText(answer.body)}`;
  if (status === 401 || status === 403) return new AuthError(reason, status);
  if (status === 404) return new NotFoundError(reason, status);
  if (status === 413) return new TooLargeError(reason, status);
  if (status === 408 || status === 429 || status >= 500 || status < 200 || (status >= 300 && status < 400)) {
    return new RetryableError(reason, status, retryAfterMs(header(answer, 'retry-after'), nowMs));
  }
  // The only signal InfluxDB gives that the other points of the request were written is this
  // phrase in the body; the server's count of dropped points follows as `dropped=N`.
  if (reason.includes('partial write')) {
    const dropped = /dropped=(\d+)/.exec(reason);
    return new PartialWriteError(reason, status, dropped ? Number(dropped[1]) : undefined);
  }
  return new PermanentError(reason, status);
}

/** The server's words: `error` (1.x), `message` (2.x/3.x) of a JSON body, else the text itself. */
export function errorText(body: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { error?: unknown; message?: unknown; code?: unknown };
      const words =
        typeof json.error === 'string' ? json.error : typeof json.message === 'string' ? json.message : undefined;
      if (words !== undefined)
        return clip(typeof json.code === 'string' && json.code !== '' ? `${json.code}: ${words}` : words);
    } catch {
      // not JSON after all: the text is the reason
    }
  }
  return text === '' ? '(no body)' : clip(text);
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function clip(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
