import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AGENT_ID_PATTERN } from '@tributary/firmware-schemas';
import type { Intake } from './ingest/intake.js';

export interface CloudHttpOptions {
  readonly host: string;
  readonly port: number;
  /** When set, POST /api/v1/batches needs `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  readonly maxBatchBytes: number;
  readonly maxConcurrentUploads: number;
  readonly maxConnections: number;
  readonly requestTimeoutMs: number;
  readonly intake: Intake;
  readonly metrics: () => string;
  readonly health: () => { ok: boolean } & Record<string, unknown>;
  /** Extra read-only routes (GET path → JSON body). */
  readonly routes?: Readonly<Record<string, () => unknown>>;
  readonly onAckSent: () => void;
  /** A batch upload answered 413 or 503 before it reached the intake, and why (counted and reported). */
  readonly onRefused: (status: 413 | 503, reason: string) => void;
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

/**
 * The cloud's HTTP side: the batch uplink for sites where MQTT is blocked (POST /api/v1/batches,
 * answered with the ack only after the write; 503 + Retry-After while the backlog is full),
 * `/metrics`, `/health` and read-only JSON routes.
 */
export async function startCloudHttp(o: CloudHttpOptions): Promise<{ server: Server; port: number }> {
  const uploads = { reading: 0 };
  const server = createServer({ requestTimeout: o.requestTimeoutMs, headersTimeout: Math.min(o.requestTimeoutMs, 60_000) }, (req, res) => {
    void handle(o, req, res, uploads).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
    });
  });
  server.maxConnections = o.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function handle(o: CloudHttpOptions, req: IncomingMessage, res: ServerResponse, uploads: { reading: number }): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/api/v1/batches') {
    if (o.token !== undefined && req.headers.authorization !== `Bearer ${o.token}`) return json(res, 401, { error: 'missing or wrong bearer token' });
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = `batch over ${o.maxBatchBytes} bytes`;
    if (declared > o.maxBatchBytes) return refuse(o, res, 413, tooLarge);
    if (uploads.reading >= o.maxConcurrentUploads) return refuse(o, res, 503, `${o.maxConcurrentUploads} uploads already being read (http.maxConcurrentUploads)`);
    uploads.reading++;
    let body: Buffer | undefined;
    try {
      body = await readBody(req, o.maxBatchBytes);
    } finally {
      uploads.reading--;
    }
    if (body === undefined) return refuse(o, res, 413, tooLarge);
    const agentHeader = req.headers['x-tributary-agent'];
    const agent = typeof agentHeader === 'string' && AGENT_ID_PATTERN.test(agentHeader) ? agentHeader : undefined;
    const pending = o.intake.tryAdmit(body, agent);
    if (pending === undefined) return refuse(o, res, 503, 'write backlog full');
    let ack;
    try {
      ack = await pending;
    } catch {
      return json(res, 503, { error: 'stopping; batch not written' }, { 'retry-after': '5' });
    }
    // No ack: a batch of a newer version, or a copy of one still being written; the agent sends it again later.
    if (ack === undefined) return json(res, 400, { error: 'no ack for this batch now (a newer batch version, or a copy of a batch still being written)' });
    o.onAckSent();
    return json(res, ack.status === 'rejected' ? 422 : 200, ack);
  }
  if (req.method === 'GET' && path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(o.metrics());
    return;
  }
  if (req.method === 'GET' && path === '/health') {
    const h = o.health();
    return json(res, h.ok ? 200 : 503, h);
  }
  // The path is a stranger's: only the routes' own keys, never an Object method (`constructor`).
  const route = req.method === 'GET' && path !== undefined && o.routes !== undefined && Object.hasOwn(o.routes, path) ? o.routes[path] : undefined;
  if (route) return json(res, 200, route());
  json(res, 404, { error: 'not found' });
}

/** Answers a batch upload 413, or 503 with Retry-After, and reports it. */
function refuse(o: CloudHttpOptions, res: ServerResponse, status: 413 | 503, reason: string): void {
  o.onRefused(status, reason);
  if (status === 413) return json(res, 413, { error: reason });
  // The connection is closed too: the body may not have been read.
  json(res, 503, { error: `${reason}; try again later` }, { 'retry-after': '1', connection: 'close' });
}
