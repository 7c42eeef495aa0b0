import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ack } from '@tributary/firmware-schemas';
import { startCloudHttp } from './http.js';
import { Intake } from './ingest/intake.js';

async function serve(t: import('node:test').TestContext, process: (p: Uint8Array) => Promise<Ack | undefined>, token?: string) {
  const intake = new Intake(1, 1 << 20, process);
  const http = await startCloudHttp({ host: '127.0.0.1', port: 0, token, maxBatchBytes: 1000, intake, metrics: () => 'm 1\n', health: () => ({ ok: true }), onAckSent: () => undefined });
  t.after(() => new Promise<void>((r) => http.server.close(() => r())));
  const post = (body: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${http.port}/api/v1/batches`, { method: 'POST', body, headers });
  return { post, intake };
}

test('POST /api/v1/batches answers with the ack once the batch is processed', async (t) => {
  const { post } = await serve(t, async () => ({ v: 1, agent: 'a', seq: 4, status: 'ok' }));
  const res = await post('{}');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { v: 1, agent: 'a', seq: 4, status: 'ok' });
});

test('a rejected batch gets 422 with the reason; an unreadable one 400', async (t) => {
  let answer: Ack | undefined = { v: 1, agent: 'a', seq: 1, status: 'rejected', reason: 'windows[0].count: too small' };
  const { post } = await serve(t, async () => answer);
  const rejected = await post('{}');
  assert.equal(rejected.status, 422);
  assert.match(((await rejected.json()) as Ack).reason ?? '', /count/);
  answer = undefined;
  assert.equal((await post('junk')).status, 400);
});

test('over the size limit: 413; backlog full: 503 with Retry-After; wrong token: 401', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { post, intake } = await serve(t, async () => {
    await gate;
    return { v: 1, agent: 'a', seq: 1, status: 'ok' };
  }, 'secret');
  const auth = { authorization: 'Bearer secret' };
  assert.equal((await post('x'.repeat(2000), auth)).status, 413);
  assert.equal((await post('{}')).status, 401);
  const first = post('{}', auth); // being processed
  const second = post('{}', auth); // waits in the backlog of 1
  while (intake.backlog < 2) await new Promise((r) => setImmediate(r));
  const third = await post('{}', auth);
  assert.equal(third.status, 503);
  assert.equal(third.headers.get('retry-after'), '1');
  release();
  assert.deepEqual([(await first).status, (await second).status], [200, 200]);
});
