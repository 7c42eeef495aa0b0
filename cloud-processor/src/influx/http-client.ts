import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RetryableError } from './errors.js';
import type { HttpAnswer } from './response.js';

/** Bytes of an answer body kept (error texts); the rest is read and discarded. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpCall {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Body;
}

/** A request body: one buffer, or its parts in order (sent one after the other, never joined). */
export type Body = Buffer | readonly Buffer[];

/** Bytes of a body. */
export function bodyBytes(body: Body): number {
  if (Buffer.isBuffer(body)) return body.byteLength;
  let n = 0;
  for (const part of body as readonly Buffer[]) n += part.byteLength;
  return n;
}

/**
 * A small HTTP client for InfluxDB: keep-alive connections (at most `maxSockets`), a timeout per
 * request. Network failures and timeouts reject with RetryableError (the write may or may not
 * have happened; resending is safe because a point with the same identity overwrites itself).
 */
export class HttpClient {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly secure: boolean;

  constructor(
    base: URL,
    maxSockets: number,
    private readonly timeoutMs: number,
  ) {
    this.secure = base.protocol === 'https:';
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
    this.agent = this.secure ? new HttpsAgent(options) : new HttpAgent(options);
  }

  call(c: HttpCall): Promise<HttpAnswer> {
    const send = this.secure ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = { ...c.headers };
    if (c.body) headers['content-length'] = bodyBytes(c.body);
    return new Promise<HttpAnswer>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const req = send(c.url, { method: c.method, headers, agent: this.agent }, (res) => {
        response = res;
        readAnswer(res).then(
          (answer) => {
            clearTimeout(deadline);
            resolve(answer);
          },
          (err: Error) => {
            clearTimeout(deadline);
            reject(
              err instanceof RetryableError
                ? err
                : new RetryableError(`reading the answer failed: ${err.message}`, res.statusCode, undefined, {
                    cause: err,
                  }),
            );
          },
        );
      });
      // A deadline for the whole exchange, not an idle timer: an answer that trickles in byte by
      // byte must not hold a request slot (and its lines) forever.
      const deadline = setTimeout(() => {
        const err = new RetryableError(`no complete answer within ${this.timeoutMs} ms`);
        response?.destroy(err);
        req.destroy(err);
      }, this.timeoutMs);
      req.on('error', (err: Error & { code?: string }) => {
        clearTimeout(deadline);
        reject(
          err instanceof RetryableError
            ? err
            : new RetryableError(
                `${c.method} ${c.url.origin}${c.url.pathname} failed: ${err.code ?? err.message}`,
                undefined,
                undefined,
                { cause: err },
              ),
        );
      });
      if (c.body === undefined || Buffer.isBuffer(c.body)) req.end(c.body);
      else {
        for (const part of c.body as readonly Buffer[]) req.write(part);
        req.end();
      }
    });
  }

  /** Closes idle connections; requests in flight finish or fail. */
  close(): void {
    this.agent.destroy();
  }
}

async function readAnswer(res: IncomingMessage): Promise<HttpAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
  };
}
