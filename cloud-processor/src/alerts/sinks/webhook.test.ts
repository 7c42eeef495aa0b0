import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { WebhookConfig, type AlertEvent } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { WebhookSink } from './webhook.js';

const alert = (n: number): AlertEvent => ({
  v: 1,
  id: `a${n}`,
  state: 'opened',
  device: 'd',
  metric: 'm',
  detector: 'e',
  severity: 'warning',
  score: 0.6,
  value: n,
  openedAt: 1_700_000_000_000,
  at: 1_700_000_000_000,
  message: `alert ${n}`,
});

/** A webhook receiver: answers each POST with the next status of `script` (then 204), records bodies. */
async function receiver(t: TestContext, script: Array<{ status: number; headers?: Record<string, string> }>) {
  const received: Array<{ id: string; at: number }> = [];
  const answered = { count: 0 };
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const next = script.shift() ?? { status: 204 };
      if (next.status < 300) received.push({ id: (JSON.parse(body) as AlertEvent).id, at: Date.now() });
      res.writeHead(next.status, next.headers ?? {}).end(() => answered.count++);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, answered };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('webhook: alerts are POSTed in order; 503 and 429 are retried (Retry-After honoured)', async (t) => {
  const r = await receiver(t, [{ status: 503 }, { status: 429, headers: { 'retry-after': '1' } }]);
  const sink = new WebhookSink(
    WebhookConfig.parse({ url: r.url, backoff: { initialMs: 10, maxMs: 50 } }),
    silentLogger,
  );
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) sink.send(alert(i));
  // Until the sink has settled all three (the receiver records a body before its answer reaches the sink).
  await until(() => sink.counts.sent + sink.counts.failed + sink.counts.dropped === 3);
  assert.deepEqual(
    r.received.map((x) => x.id),
    ['a0', 'a1', 'a2'],
  );
  assert.ok(r.received[0]!.at - t0 >= 1000, 'waited for Retry-After: 1');
  assert.deepEqual(sink.counts, { sent: 3, failed: 0, dropped: 0 });
  await sink.stop(100);
});

test('webhook: a refusing receiver (4xx) fails that alert and moves on; a full queue drops the oldest', async (t) => {
  const r = await receiver(t, [{ status: 400 }]);
  const sink = new WebhookSink(WebhookConfig.parse({ url: r.url, maxQueue: 2 }), silentLogger);
  for (let i = 0; i < 5; i++) sink.send(alert(i));
  await until(() => sink.counts.sent + sink.counts.failed + sink.counts.dropped === 5);
  // a0 went out at once and was refused; of a1…a4 waiting behind it, only the newest two fit.
  assert.deepEqual(sink.counts, { sent: 2, failed: 1, dropped: 2 });
  assert.deepEqual(
    r.received.map((x) => x.id),
    ['a3', 'a4'],
  );
  await sink.stop(100);
});

test('webhook: a receiver refusing every alert of a storm is logged once, not once per alert; the counts hold every one', async (t) => {
  const r = await receiver(
    t,
    Array.from({ length: 30 }, () => ({ status: 401 })),
  );
  const warnings: Array<{ fields: object; message: string | undefined }> = [];
  const log = { ...silentLogger, warn: (fields: object, message?: string) => void warnings.push({ fields, message }) };
  const sink = new WebhookSink(WebhookConfig.parse({ url: r.url }), log);
  for (let i = 0; i < 30; i++) sink.send(alert(i));
  await until(() => sink.counts.failed === 30);
  assert.deepEqual(sink.counts, { sent: 0, failed: 30, dropped: 0 });
  assert.deepEqual(
    warnings.map((w) => w.message),
    ['webhook refused an alert'],
  );
  assert.deepEqual(warnings[0]!.fields, { status: 401, alert: 'a0' });
  await sink.stop(100);
});

test('webhook: stop does not wait out a hung receiver or a long Retry-After; what is cut off is counted dropped', async (t) => {
  const hung = createServer(() => undefined); // reads the request, never answers
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => (hung.closeAllConnections(), hung.close(() => r()))));
  const hungSink = new WebhookSink(
    WebhookConfig.parse({ url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}/`, timeoutMs: 60_000 }),
    silentLogger,
  );
  hungSink.send(alert(1));
  hungSink.send(alert(2));
  let t0 = Date.now();
  await hungSink.stop(100);
  assert.ok(Date.now() - t0 < 2_000, `stopped in ${Date.now() - t0} ms`);
  assert.deepEqual(hungSink.counts, { sent: 0, failed: 0, dropped: 2 });

  const r = await receiver(t, [{ status: 503, headers: { 'retry-after': '60' } }]);
  const waiting = new WebhookSink(WebhookConfig.parse({ url: r.url }), silentLogger);
  waiting.send(alert(3));
  await until(() => r.answered.count === 1); // the 503 went out; the sink now waits 60 s to retry
  t0 = Date.now();
  await waiting.stop(100);
  assert.ok(Date.now() - t0 < 2_000, `stopped in ${Date.now() - t0} ms`);
  assert.deepEqual(waiting.counts, { sent: 0, failed: 0, dropped: 1 });
});
