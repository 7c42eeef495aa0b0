import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { RetryableError } from './errors.js';
import { HttpClient } from './http-client.js';

// A local server, because no real InfluxDB can be made to trickle its answer.
test('timeoutMs bounds the whole exchange: an answer that trickles in is cut off and retryable', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.flushHeaders();
    const drip = setInterval(() => res.write('.'), 50);
    res.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const client = new HttpClient(new URL('http://127.0.0.1'), 1, 400);
  t.after(() => client.close());
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/write`);
  const started = Date.now();
  await assert.rejects(client.call({ method: 'POST', url, headers: {}, body: Buffer.from('m v=1') }), (err: Error) => {
    assert.ok(err instanceof RetryableError);
    assert.match(err.message, /no complete answer within 400 ms/);
    return true;
  });
  assert.ok(Date.now() - started < 2_000, 'cut off at the deadline, not when the server stops');
});
