import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { decodeAck, type UplinkConfig } from '@tributary/firmware-schemas';
import { retryAfterMs, Throttle, tlsClientOptions, type Logger } from '@tributary/runtime';
import type { TransportEvents, UplinkTransport } from './transport.js';

type HttpUplinkConfig = Extract<UplinkConfig, { type: 'http' }>;

/** The longest answer read: an ack is a few hundred bytes, so a longer answer is not one (and is not kept). */
const MAX_ANSWER_BYTES = 64 * 1024;

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

/**
 * POSTs each batch to `{url}/api/v1/batches`, for sites where MQTT is blocked. The cloud answers
 * 200 with the ack only after the batch is written (or 4xx with a `rejected` ack for a batch that
 * can never be written); 429 and 5xx mean "try again later" and honour Retry-After.
 */
export class HttpUplinkTransport implements UplinkTransport {
  private events: TransportEvents | undefined;
  private readonly inFlight = new Set<AbortController>();
  /** Refused credentials are logged once per 10 s while refusals go on (every retry is refused). */
  private readonly authWarning = new Throttle(10_000);
  /** Kept-alive connections, at most one per batch in flight; with TLS, the CA and client certificate of uplink.tls. */
  private agent: HttpAgent | undefined;
  private readonly url: URL;

  constructor(
    private readonly config: HttpUplinkConfig,
    private readonly agentId: string,
    private readonly log: Logger,
  ) {
    this.url = batchesUrl(config.url);
  }

  /** HTTP has no connection to keep: failures are handled per batch, with backoff. */
  get connected(): boolean {
    return this.events !== undefined;
  }

  /** Reads uplink.tls's files (a TlsConfigError names the key and file). */
  start(events: TransportEvents): void {
    const pool = { keepAlive: true, maxSockets: this.config.maxInFlight };
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({ ...pool, ...tlsClientOptions(this.config.tls, 'uplink.tls') })
        : new HttpAgent(pool);
    this.events = events;
    events.connected();
  }

  send(seq: number, payload: string): void {
    // A POST still waiting is the send: another copy would only add load to a cloud that is slow.
    if (this.posting.has(seq)) return;
    this.posting.add(seq);
    void this.post(seq, payload).finally(() => this.posting.delete(seq));
  }

  /** Seqs with a POST in progress (bounded by the uplink's maxInFlight). */
  private readonly posting = new Set<number>();

  async stop(): Promise<void> {
    this.events = undefined;
    for (const c of this.inFlight) c.abort();
    this.agent?.destroy();
  }

  private async post(seq: number, payload: string): Promise<void> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.config.requestTimeoutMs);
    try {
      // The agent header lets the cloud answer "rejected" even for a batch it cannot parse.
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tributary-agent': this.agentId };
      if (this.config.token !== undefined) headers.authorization = `Bearer ${this.config.token}`;
      const res = await this.request(payload, headers, controller.signal);
      const body = res.body;
      const ack = decodeAck(body);
      if (
        ack.ok &&
        ack.value.seq === seq &&
        ((res.status >= 200 && res.status < 300) || ack.value.status === 'rejected')
      ) {
        this.events?.answered(ack.value);
        return;
      }
      if (res.status === 401 || res.status === 403) {
        if (this.authWarning.ready())
          this.log.error({ status: res.status }, 'the cloud refused the uplink credentials; batches stay spooled');
      } else {
        this.log.debug({ seq, status: res.status, body: body.slice(0, 200) }, 'batch not accepted; retrying later');
      }
      this.events?.failed(seq, retryAfterMs(res.retryAfter, Date.now()) ?? 0);
    } catch (err) {
      this.log.debug({ seq, err: (err as Error).message }, 'batch POST failed; retrying later');
      this.events?.failed(seq);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  /** One POST and its answer (at most MAX_ANSWER_BYTES of it). */
  private request(payload: string, headers: Record<string, string>, signal: AbortSignal): Promise<Answer> {
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Answer>((resolve, reject) => {
      const req = send(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) },
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES)
              res.destroy(new Error(`an answer of over ${MAX_ANSWER_BYTES} bytes is not an ack`));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, retryAfter, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** `{url}/api/v1/batches`, keeping a path the URL has (a cloud behind a reverse proxy at /tributary). */
export function batchesUrl(url: string): URL {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v1/batches`;
  return u;
}
