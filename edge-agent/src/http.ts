import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `/metrics` (Prometheus text) and `/health` (JSON) of a long-running process. Read-only, bound to
 * the configured host (loopback by default).
 */
export async function serveStatus(
  host: string,
  port: number,
  metrics: () => Promise<string>,
  health: () => { ok: boolean } & Record<string, unknown>,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.method === 'GET' && req.url === '/health') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
