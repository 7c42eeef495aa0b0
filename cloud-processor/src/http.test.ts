import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { Ack } from '@tributary/firmware-schemas';
import { startCloudHttp } from './http.js';
import { Intake } from './ingest/intake.js';

async function serve(t: import('node:test').TestContext, process: (p: Uint8Array) => Promise<Ack | undefined>, token?: string, maxConcurrentUploads = 32) {
  const intake = new Intake(1, 1 << 20, process);
  const refused: string[] = [];
  const http = await startCloudHttp({
    host: '127.0.0.1',
    port: 0,
    token,
    maxBatchBytes: 1000,
    maxConcurrentUploads,
    maxConnections: 100,
    requestTimeoutMs: 10_000,
    intake,
    metrics: () => 'm 1\n',
    health: () => ({ ok: true }),
    onAckSent: () => undefined,
    onRefused: (status, reason) => void refused.push(`${status} ${reason}`),
  });
  t.after(() => new Promise<void>((r) => {
    http.server.closeAllConnections();
    http.server.close(() => r());
  }));
  const post = (body: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${http.port}/api/v1/batches`, { method: 'POST', body, headers });
  return { post, intake, refused, port: http.port };
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
  const { post, intake, refused } = await serve(t, async () => {
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
  assert.deepEqual(refused, ['413 batch over 1000 bytes', '503 write backlog full'], 'each refusal is reported with its reason');
});

test('uploads being read at once are bounded: another is answered 503 before its body is read', async (t) => {
  const { post, refused, port } = await serve(t, async () => ({ v: 1, agent: 'a', seq: 1, status: 'ok' }), undefined, 1);
  // A stalled upload: headers and half its body, then nothing.
  const stalled = connect(port, '127.0.0.1');
  t.after(() => stalled.destroy());
  await new Promise<void>((r) => stalled.once('connect', () => r()));
  stalled.write('POST /api/v1/batches HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"half":');
  await new Promise((r) => setTimeout(r, 100));
  const busy = await post('{}');
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.match(refused.join(), /1 uploads already being read/);
  stalled.destroy();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await post('{}')).status, 200, 'the slot is free again once the stalled upload is gone');
});
