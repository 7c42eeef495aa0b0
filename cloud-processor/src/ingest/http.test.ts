import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { Ack } from '@tributary/firmware-schemas';
import type { HttpCredentials } from './http-access.js';
import { startCloudHttp } from './http.js';
import { ForeignAgentError, Intake } from './intake.js';

async function serve(
  t: import('node:test').TestContext,
  process: (p: Uint8Array, agent: string | undefined) => Promise<Ack | undefined>,
  credentials: Partial<HttpCredentials> = {},
  maxConcurrentUploads = 32,
  maxUploadsPerAgent = 32,
) {
  const intake = new Intake(1, 1 << 20, process);
  const refused: string[] = [];
  const forbidden: string[] = [];
  const http = await startCloudHttp({
    host: '127.0.0.1',
    port: 0,
    agents: [],
    ...credentials,
    maxBatchBytes: 1000,
    maxConcurrentUploads,
    maxUploadsPerAgent,
    maxConnections: 100,
    requestTimeoutMs: 10_000,
    intake,
    metrics: () => 'm 1\n',
    health: () => ({ ok: true }),
    routes: { '/api/agents': () => [] },
    onAckSent: () => undefined,
    onRefused: (status, reason) => void refused.push(`${status} ${reason}`),
    onForbidden: (status, reason) => void forbidden.push(`${status} ${reason}`),
    onReadRefused: (path) => void forbidden.push(`read ${path}`),
    onTlsRefused: (peer, reason) => void refused.push(`tls ${peer} ${reason}`),
  });
  t.after(
    () =>
      new Promise<void>((r) => {
        http.server.closeAllConnections();
        http.server.close(() => r());
      }),
  );
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${http.port}/api/v1/batches`, { method: 'POST', body, headers });
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${http.port}${path}`, { headers });
  return { post, get, intake, refused, forbidden, port: http.port };
}

/** A stalled upload: headers and half its body, then nothing. */
async function stall(t: import('node:test').TestContext, port: number, headers = ''): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  t.after(() => s.destroy());
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('connect', () => r()));
  s.write(`POST /api/v1/batches HTTP/1.1\r\nhost: x\r\n${headers}content-length: 100\r\n\r\n{"half":`);
  return s;
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
  const { post, intake, refused } = await serve(
    t,
    async () => {
      await gate;
      return { v: 1, agent: 'a', seq: 1, status: 'ok' };
    },
    { token: 'secret' },
  );
  const auth = { authorization: 'Bearer secret', 'x-tributary-agent': 'a' };
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
  assert.deepEqual(
    refused,
    ['413 batch over 1000 bytes', '503 write backlog full'],
    'each refusal is reported with its reason',
  );
});

test('uploads being read at once are bounded: another is answered 503 before its body is read', async (t) => {
  const { post, refused, port } = await serve(t, async () => ({ v: 1, agent: 'a', seq: 1, status: 'ok' }), {}, 1);
  const stalled = await stall(t, port);
  await new Promise((r) => setTimeout(r, 100));
  const busy = await post('{}');
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.match(refused.join(), /1 uploads already being read/);
  stalled.destroy();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await post('{}')).status, 200, 'the slot is free again once the stalled upload is gone');
});

const okAck = async (_p: Uint8Array, agent: string | undefined): Promise<Ack> => ({
  v: 1,
  agent: agent ?? '?',
  seq: 1,
  status: 'ok',
});

test('a token per agent: the batch goes in as that agent; another agent’s name is 403; unknown or missing token 401', async (t) => {
  const seenAs: Array<string | undefined> = [];
  const { post, forbidden } = await serve(t, async (p, agent) => (seenAs.push(agent), okAck(p, agent)), {
    agents: [{ agentId: 'gw-a', token: 'token-of-gw-a-123456' }],
    token: 'shared',
    readToken: 'read-token-123456789',
  });
  const as = (token: string, agent?: string) => ({
    authorization: `Bearer ${token}`,
    ...(agent === undefined ? {} : { 'x-tributary-agent': agent }),
  });
  assert.equal((await post('{}', as('token-of-gw-a-123456'))).status, 200);
  assert.equal((await post('{}', as('token-of-gw-a-123456', 'gw-a'))).status, 200);
  assert.equal(
    (await post('{}', { authorization: 'bearer  token-of-gw-a-123456' })).status,
    200,
    'the scheme is case-insensitive',
  );
  assert.deepEqual(seenAs, ['gw-a', 'gw-a', 'gw-a'], 'the token’s agent, whatever the request claims');
  assert.equal((await post('{}', as('token-of-gw-a-123456', 'gw-b'))).status, 403);
  assert.equal(
    (await post('{}', as('shared', 'gw-a'))).status,
    403,
    'the shared token may not post as an agent with its own',
  );
  assert.equal((await post('{}', as('shared', 'gw-b'))).status, 200, 'but as one without');
  assert.equal((await post('{}', as('shared'))).status, 403, 'naming it: the batch is held to the agent named');
  assert.equal((await post('{}', as('read-token-123456789', 'gw-b'))).status, 401, 'the read token does not upload');
  assert.equal((await post('{}', as('token-of-gw-a-12345', 'gw-a'))).status, 401);
  assert.equal((await post('{}')).status, 401);
  assert.deepEqual(forbidden, [
    '403 the token of gw-a may not post as gw-b',
    '403 the shared token may not post as gw-a, which has a token of its own',
    '403 the shared token must name its agent (x-tributary-agent)',
    '401 unknown bearer token (as gw-b)',
    '401 unknown bearer token (as gw-a)',
    '401 no bearer token',
  ]);
});

test('a batch naming another agent than its token’s is answered 403', async (t) => {
  const { post, forbidden } = await serve(
    t,
    async (_p, agent) => Promise.reject(new ForeignAgentError('gw-b', agent!, undefined)),
    { agents: [{ agentId: 'gw-a', token: 'token-of-gw-a-123456' }], readToken: 'read-token-123456789' },
  );
  const res = await post('{}', { authorization: 'Bearer token-of-gw-a-123456' });
  assert.equal(res.status, 403);
  assert.deepEqual(forbidden, ['403 the token of gw-a may not post as gw-b (its batch says so)']);
});

test('reads need the read token (or the shared one) when the server has credentials; /health and an open server are open', async (t) => {
  const guarded = await serve(t, okAck, {
    agents: [{ agentId: 'gw-a', token: 'token-of-gw-a-123456' }],
    readToken: 'read-token-123456789',
  });
  for (const path of ['/metrics', '/api/agents']) {
    assert.equal((await guarded.get(path)).status, 401);
    assert.equal((await guarded.get(path, { authorization: 'Bearer token-of-gw-a-123456' })).status, 401);
    assert.equal((await guarded.get(path, { authorization: 'Bearer read-token-123456789' })).status, 200);
  }
  assert.equal((await guarded.get('/health')).status, 200);
  assert.equal((await guarded.get('/api/nothing')).status, 404);
  assert.deepEqual(guarded.forbidden, ['read /metrics', 'read /metrics', 'read /api/agents', 'read /api/agents']);
  const shared = await serve(t, okAck, { token: 'shared' });
  assert.equal((await shared.get('/metrics')).status, 401);
  assert.equal((await shared.get('/metrics', { authorization: 'Bearer shared' })).status, 200);
  const open = await serve(t, okAck);
  assert.equal((await open.get('/metrics')).status, 200);
});

test('one agent’s stalled uploads take only its share: it gets 429 + Retry-After, another agent still gets in', async (t) => {
  const { post, refused, port } = await serve(t, okAck, {}, 3, 2);
  await stall(t, port, 'x-tributary-agent: gw-a\r\n');
  await stall(t, port, 'x-tributary-agent: gw-a\r\n');
  await new Promise((r) => setTimeout(r, 100));
  const over = await post('{}', { 'x-tributary-agent': 'gw-a' });
  assert.equal(over.status, 429);
  assert.equal(over.headers.get('retry-after'), '1');
  assert.equal((await post('{}', { 'x-tributary-agent': 'gw-b' })).status, 200);
  assert.deepEqual(refused, ['429 gw-a has 2 uploads being read already (http.maxUploadsPerAgent)']);
});
