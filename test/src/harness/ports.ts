import { createServer } from 'node:net';

/**
 * Ports this process has handed out (the latest REMEMBERED): once a probe closes, the OS may give
 * its port again, and one test's servers were given the same port twice (a processor's broker and
 * its HTTP port: EADDRINUSE at start, seen in CI).
 */
const handedOut = new Set<number>();
const REMEMBERED = 4_096;
/** Probes before giving up on a port not handed out yet (the ephemeral range holds ~28,000). */
const ATTEMPTS = 50;

/** A TCP port free on 127.0.0.1 right now (the OS picks it), and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await probe();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (handedOut.size > REMEMBERED) handedOut.delete(handedOut.values().next().value!);
    return port;
  }
  throw new Error(`no loopback port this process has not handed out already, after ${ATTEMPTS} probes`);
}

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
