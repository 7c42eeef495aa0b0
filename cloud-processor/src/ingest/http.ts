import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AGENT_ID_PATTERN } from '@tributary/firmware-schemas';
import { admitTlsClients, certifiedName, type Logger, type TlsListenerOptions } from '@tributary/runtime';
import { authorizationFromCookie } from '../dashboard/session.js';
import { HttpAccess, type HttpCredentials } from './http-access.js';
import { ForeignAgentError, type Intake } from './intake.js';
import { UploadSlots } from './upload-slots.js';

export interface CloudHttpOptions extends HttpCredentials {
  readonly host: string;
  readonly port: number;
  readonly maxBatchBytes: number;
  readonly maxConcurrentUploads: number;
  readonly maxUploadsPerAgent: number;
  readonly maxConnections: number;
  readonly requestTimeoutMs: number;
  readonly intake: Intake;
  readonly metrics: () => string | Promise<string>;
  readonly health: () => { ok: boolean } & Record<string, unknown>;
  /** Extra read-only routes (GET path → JSON body, given the query string), under the read token. */
  readonly routes?: Readonly<Record<string, (query: URLSearchParams) => unknown>>;
  /** Long-lived GET responses (server-sent events) by path, under the read token like `routes`. */
  readonly streams?: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse) => void>>;
  /** Public pages (the dashboard's files and its sign-in); true when it answered the request. */
  readonly pages?: (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    mayRead: (authorization: string | undefined) => boolean,
  ) => boolean | Promise<boolean>;
  readonly onAckSent: () => void;
  /** A batch upload answered 413, 429 or 503 before it reached the intake, and why (counted and reported). */
  readonly onRefused: (status: 413 | 429 | 503, reason: string) => void;
  /** A batch upload refused for its credentials: 401 (no or unknown token) or 403 (posting as another agent), and why. */
  readonly onForbidden: (status: 401 | 403, reason: string) => void;
  /** A GET of /metrics or /api/* without the read token. */
  readonly onReadRefused: (path: string) => void;
  /** HTTPS with these files and client certificate policy (tlsListenerOptions of `http.tls`); plain HTTP when omitted. */
  readonly tls?: TlsListenerOptions | undefined;
  /** An HTTPS connection refused: a failed or unfinished handshake, a refused client certificate. */
  readonly onTlsRefused: (peer: string, reason: string) => void;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** Reads a request body up to `max` bytes; undefined when it is larger. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

interface State {
  readonly access: HttpAccess;
  readonly slots: UploadSlots;
  /** GET path → JSON body; a Map, since the path is the client's. */
  readonly routes: ReadonlyMap<string, (query: URLSearchParams) => unknown>;
  readonly streams: ReadonlyMap<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

/** The log lines of a started processor's HTTP server: its port, the dashboard (served or why not), a shared token's risk. */
export function logHttpStarted(
  log: Logger,
  http: { host: string; agents: readonly unknown[]; token?: string | undefined; tls?: unknown },
  port: number,
  dashboard: { served: boolean; why: string },
): void {
  log.info({ port, agentTokens: http.agents.length }, 'HTTP listening');
  const scheme = http.tls === undefined ? 'http' : 'https';
  log.info(
    { url: dashboard.served ? `${scheme}://${http.host}:${port}/dashboard/` : undefined, why: dashboard.why },
    dashboard.served ? 'dashboard served' : 'dashboard not served',
  );
  if (http.token !== undefined)
    log.warn(
      { agentsWithOwnToken: http.agents.length },
      'http.token is shared: whoever holds it may post batches as any agent without a token of its own in http.agents',
    );
}

/**
 * The cloud's HTTP side: the batch uplink for sites where MQTT is blocked (POST /api/v1/batches,
 * answered with the ack only after the write; 503 + Retry-After while the backlog is full),
 * `/metrics`, `/health` and read-only JSON routes. With credentials (see HttpAccess) an upload
 * needs a token, and /metrics and /api/* the read token; /health is always open.
 */
export async function startCloudHttp(o: CloudHttpOptions): Promise<{ server: Server; port: number }> {
  const clientCertificates = o.tls?.clientCertificates ?? 'none';
  const state: State = {
    access: new HttpAccess(o, clientCertificates !== 'none'),
    slots: new UploadSlots(o.maxConcurrentUploads, o.maxUploadsPerAgent),
    routes: new Map(Object.entries(o.routes ?? {})),
    streams: new Map(Object.entries(o.streams ?? {})),
  };
  // Node checks these timeouts every connectionsCheckingInterval, 30 s by default: a trickling
  // request (slowloris) held its connection, and its upload slot, up to 30 s past requestTimeoutMs.
  const timeouts = {
    requestTimeout: o.requestTimeoutMs,
    headersTimeout: Math.min(o.requestTimeoutMs, 60_000),
    connectionsCheckingInterval: Math.min(o.requestTimeoutMs, 1_000),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(o, req, res, state).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
    });
  };
  let server: Server;
  if (o.tls === undefined) server = createServer(timeouts, onRequest);
  else {
    const https = createHttpsServer({ ...o.tls, ...timeouts, handshakeTimeout: timeouts.headersTimeout }, onRequest);
    admitTlsClients(https, clientCertificates, (_kind, peer, reason) => o.onTlsRefused(peer, reason));
    server = https;
  }
  server.maxConnections = o.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function handle(o: CloudHttpOptions, req: IncomingMessage, res: ServerResponse, state: State): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'POST' && path === '/api/v1/batches') return upload(o, req, res, state);
  if (req.method === 'GET' && path === '/health') {
    const h = o.health();
    return json(res, h.ok ? 200 : 503, h);
  }
  if (o.pages && (await o.pages(req, res, path, (authorization) => state.access.mayRead(authorization)))) return;
  const stream = req.method === 'GET' ? state.streams.get(path) : undefined;
  const route = req.method !== 'GET' ? undefined : path === '/metrics' ? o.metrics : state.routes.get(path);
  if (route === undefined && stream === undefined) return json(res, 404, { error: 'not found' });
  // A browser cannot set a header on an EventSource: the dashboard's sign-in keeps the token in a cookie.
  if (!state.access.mayRead(req.headers.authorization ?? authorizationFromCookie(req.headers.cookie))) {
    o.onReadRefused(path);
    return json(
      res,
      401,
      { error: 'missing or wrong bearer token (http.readToken)' },
      { 'www-authenticate': 'Bearer' },
    );
  }
  if (stream) return stream(req, res);
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(await o.metrics());
    return;
  }
  json(res, 200, await route!(new URLSearchParams((req.url ?? '').split('?')[1] ?? '')));
}

/** POST /api/v1/batches: who posts, a slot to read the body in, the intake, and the ack as the answer. */
async function upload(
  o: CloudHttpOptions,
  req: IncomingMessage,
  res: ServerResponse,
  { access, slots }: State,
): Promise<void> {
  const header = req.headers['x-tributary-agent'];
  const claimed = typeof header === 'string' && AGENT_ID_PATTERN.test(header) ? header : undefined;
  const allowed = access.upload(req.headers.authorization, claimed, certifiedName(req.socket));
  if (!allowed.ok) return forbid(o, res, allowed.status, allowed.reason);
  const { uploader } = allowed;
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = `batch over ${o.maxBatchBytes} bytes`;
  if (declared > o.maxBatchBytes) return refuse(o, res, 413, tooLarge);
  const slotOf = uploader.agent ?? '';
  const noSlot = slots.take(slotOf);
  if (noSlot) return refuse(o, res, noSlot.status, noSlot.reason);
  let body: Buffer | undefined;
  try {
    body = await readBody(req, o.maxBatchBytes);
  } finally {
    slots.release(slotOf);
  }
  if (body === undefined) return refuse(o, res, 413, tooLarge);
  const pending = o.intake.tryAdmit(body, uploader.agent);
  if (pending === undefined) return refuse(o, res, 503, 'write backlog full');
  let ack;
  try {
    ack = await pending;
  } catch (err) {
    if (err instanceof ForeignAgentError) {
      const who =
        uploader.proof === 'claimed' ? `a request as ${uploader.agent}` : `the ${uploader.proof} of ${uploader.agent}`;
      return forbid(o, res, 403, `${who} may not post as ${err.batchAgent} (its batch says so)`);
    }
    return json(res, 503, { error: 'stopping; batch not written' }, { 'retry-after': '5' });
  }
  // No ack: a batch of a newer version, or a copy of one still being written; the agent sends it again later.
  if (ack === undefined)
    return json(res, 400, {
      error: 'no ack for this batch now (a newer batch version, or a copy of a batch still being written)',
    });
  o.onAckSent();
  return json(res, ack.status === 'rejected' ? 422 : 200, ack);
}

/** Answers a batch upload 401 or 403 and reports it; the body is left unread, so the connection is closed. */
function forbid(o: CloudHttpOptions, res: ServerResponse, status: 401 | 403, reason: string): void {
  o.onForbidden(status, reason);
  json(
    res,
    status,
    { error: reason },
    { connection: 'close', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) },
  );
}

/** Answers a batch upload 413, or 429/503 with Retry-After, and reports it. */
function refuse(o: CloudHttpOptions, res: ServerResponse, status: 413 | 429 | 503, reason: string): void {
  o.onRefused(status, reason);
  if (status === 413) return json(res, 413, { error: reason });
  // The connection is closed too: the body may not have been read.
  json(res, status, { error: `${reason}; try again later` }, { 'retry-after': '1', connection: 'close' });
}
