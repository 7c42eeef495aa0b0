import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, encodeBatch, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger, type Logger } from '@tributary/runtime';
import mqtt from 'mqtt';
import { influxQuery, startInfluxd, type Influxd } from '../harness/influxd.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';

// The HTTP uplink from outside: what a holder of a token can and cannot do to another agent's data,
// against a real cloud processor writing into a real influxd, with real agents posting batches.

const SHARED = 'shared-token-of-the-site';
const TOKEN_A = 'token-of-gw-a-0123456789';
const TOKEN_B = 'token-of-gw-b-0123456789';
const READ = 'read-token-0123456789abc';

let influxd: Influxd;
before(async () => {
  influxd = await startInfluxd();
});
after(() => influxd.stop());

/** A logger keeping every warning and error as its level, message and fields. */
function recordLog(lines: string[]): Logger {
  const log: Logger = {
    ...silentLogger,
    warn: (o, msg) => void lines.push(`WARN ${msg} ${JSON.stringify(o)}`),
    error: (o, msg) => void lines.push(`ERROR ${msg} ${JSON.stringify(o)}`),
    child: () => log,
  };
  return log;
}

/** `http` is loosely typed so this file also builds against a processor without the keys it tests. */
async function startCloud(t: TestContext, database: string, http: Record<string, unknown>) {
  const lines: string[] = [];
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      influx: { url: influxd.url, database },
      stateDir: join(scratchDir(database), 'cloud'),
      http: { host: '127.0.0.1', port: 0, ...http },
      reportIntervalMs: 200,
    }),
    log: recordLog(lines),
  });
  await cloud.start();
  t.after(() => cloud.stop());
  const base = `http://127.0.0.1:${cloud.httpPort}`;
  /** A counter by name (typed loosely: a name this build does not have reads as 0). */
  const counter = (name: string): number => cloud.counters.get(name as Parameters<typeof cloud.counters.get>[0]) ?? 0;
  return { cloud, base, lines, counter };
}

/** A real edge agent reading telemetry from the cloud's broker and posting its batches over HTTP with `token`. */
async function startAgent(t: TestContext, cloud: CloudProcessor, agentId: string, token: string): Promise<EdgeAgent> {
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId,
      sources: [{ type: 'mqtt', url: cloud.brokerUrl, topics: [`sites/${agentId}/+/telemetry`] }],
      windows: { lengthMs: 60_000, allowedLatenessMs: 2_000 },
      batch: { maxDelayMs: 100 },
      uplink: {
        type: 'http',
        url: `http://127.0.0.1:${cloud.httpPort}`,
        token,
        ackTimeoutMs: 5_000,
        backoff: { initialMs: 100, maxMs: 1_000 },
      },
    }),
    stateDir: scratchDir(`agent-${agentId}`),
    log: silentLogger,
  });
  await agent.start();
  await agent.ready();
  t.after(() => agent.stop(1_000));
  return agent;
}

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;

/** Readings `from` … `to − 1` of three devices of `agentId`, one a second of event time. */
async function sendReadings(
  cloud: CloudProcessor,
  agent: EdgeAgent,
  agentId: string,
  from: number,
  to: number,
): Promise<void> {
  const sensors = await mqtt.connectAsync(cloud.brokerUrl, { clientId: `sensors-${agentId}-${from}` });
  for (let i = from; i < to; i++) {
    await sensors.publishAsync(
      `sites/${agentId}/${agentId}-${i % 3}/telemetry`,
      JSON.stringify({ device: `${agentId}-${i % 3}`, ts: T0 + i * 1_000, values: { temperature: 20 + (i % 7) } }),
      { qos: 1 },
    );
  }
  await sensors.endAsync();
  await waitFor(
    `${agentId} to accept readings up to ${to}`,
    () => agent.counters.get('readings_accepted') === to,
    20_000,
  );
}

/** Σ count of the agent's temperature windows in InfluxDB. */
async function countInInflux(database: string, agentId: string): Promise<number> {
  const rows = await influxQuery(
    influxd.url,
    database,
    `SELECT sum("count") FROM "temperature" WHERE "agent" = '${agentId}'`,
  );
  return Number(rows[0]?.values[0]?.[1] ?? 0);
}

/** A batch as anyone can make one: the agent, epoch and seq it claims, and one window. */
function forgedBatch(agent: string, epoch: number, seq: number, windows = 0): string {
  const window = {
    device: 'forged',
    metric: 'temperature',
    start: T0,
    end: T0 + 60_000,
    count: 1,
    sum: 99,
    min: 99,
    max: 99,
    mean: 99,
    m2: 0,
    first: 99,
    last: 99,
    firstTs: T0,
    lastTs: T0,
  };
  return encodeBatch({
    v: 1,
    agent,
    epoch,
    seq,
    sentAt: Date.now(),
    counters: {},
    windows: Array.from({ length: windows }, () => window),
  });
}

async function post(
  base: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: { status?: string; error?: string } }> {
  const res = await fetch(`${base}/api/v1/batches`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, body: (await res.json()) as { status?: string; error?: string } };
}

/** A cloud with the shared token, and gw-a posting with it, half of its readings delivered and acked. */
async function halfDelivered(t: TestContext, database: string) {
  const cloud = await startCloud(t, database, { token: SHARED });
  const agent = await startAgent(t, cloud.cloud, 'gw-a', SHARED);
  await sendReadings(cloud.cloud, agent, 'gw-a', 0, 600);
  await waitFor(
    'gw-a’s batches so far to be acked',
    () => agent.uplink.queued === 0 && cloud.cloud.counters.get('batches_written') > 0,
    20_000,
  );
  return { ...cloud, agent, asGwA: { authorization: `Bearer ${SHARED}`, 'x-tributary-agent': 'gw-a' } };
}

test('a batch forged far ahead in seq (shared token) is written, but the real agent’s later batches all reach InfluxDB', {
  timeout: 90_000,
}, async (t) => {
  const { cloud, base, lines, counter, agent, asGwA } = await halfDelivered(t, 'forged_seq');
  // Whoever holds the shared token posts as gw-a, with its epoch, 99,000,000 seqs ahead (under the old 100,000,000 guard).
  const max = agent.uplink.nextSeq() - 1;
  const forgedSeq = max + 99_000_000;
  const forged = await post(base, forgedBatch('gw-a', agent.uplink.epoch, forgedSeq), asGwA);
  assert.equal(forged.status, 200, 'the shared token lets its holder post as any agent (README: Securing)');
  // The agent keeps sending meanwhile: the jump is from the highest seq it had sent by the time the forged batch was answered.
  const maxAfter = agent.uplink.nextSeq() - 1;

  await sendReadings(cloud, agent, 'gw-a', 600, 1_200);
  assert.deepEqual(await agent.stop(20_000), { drained: true });
  assert.equal(
    await countInInflux('forged_seq', 'gw-a'),
    agent.counters.get('readings_accepted'),
    'Σ count in InfluxDB equals the readings gw-a accepted',
  );
  assert.equal(agent.counters.get('readings_accepted'), 1_200);
  assert.equal(counter('batches_duplicate'), 0, 'no real batch was taken for a duplicate');

  assert.equal(counter('batches_tracked_apart'), 1, 'the far jump is counted');
  const logged = await waitFor('the jump to be logged', () => lines.find((l) => l.includes('tracked apart')));
  assert.match(logged, /^ERROR .*gw-a/, 'as an error, naming the agent');
  assert.match(logged, new RegExp(`seq ${forgedSeq}\\b`));
  const from = Number(/highest seq (\d+)/.exec(logged)?.[1]);
  assert.ok(
    from >= max && from <= maxAfter,
    `it names the highest seq it jumped from (${from}, the agent had sent ${max}–${maxAfter})`,
  );
});

test('a batch forged with an epoch 23 h ahead does not switch off duplicate tracking of the real agent', {
  timeout: 90_000,
}, async (t) => {
  const { cloud, base, lines, counter, agent, asGwA } = await halfDelivered(t, 'forged_epoch');
  const written = agent.uplink.nextSeq() - 1;
  const forged = await post(base, forgedBatch('gw-a', Date.now() + 23 * 3_600_000, 0), asGwA);
  assert.equal(forged.status, 200);
  // gw-a sends a batch again (its ack was lost): it was written, so it is a duplicate, not written twice.
  const resend = await post(base, forgedBatch('gw-a', agent.uplink.epoch, written), asGwA);
  assert.deepEqual([resend.status, resend.body.status], [200, 'duplicate'], 'the real stream is still tracked');

  await sendReadings(cloud, agent, 'gw-a', 600, 1_200);
  assert.deepEqual(await agent.stop(20_000), { drained: true });
  assert.equal(
    await countInInflux('forged_epoch', 'gw-a'),
    1_200,
    'Σ count in InfluxDB equals the readings gw-a accepted',
  );
  assert.equal(counter('batches_tracked_apart'), 1, 'the new epoch is tracked apart, and counted');
  assert.match(
    await waitFor('the new epoch to be logged', () => lines.find((l) => l.includes('tracked apart'))),
    /gw-a.*new epoch/,
  );
});

test('a token bound to one agent cannot post as another: 403, counted, nothing written; each agent delivers with its own', {
  timeout: 90_000,
}, async (t) => {
  const agents = [
    { agentId: 'gw-a', token: TOKEN_A },
    { agentId: 'gw-b', token: TOKEN_B },
  ];
  const { cloud, base, lines, counter } = await startCloud(t, 'tokens', { agents, token: SHARED, readToken: READ });
  const epoch = Date.now();
  const attempts = [
    { as: 'token of gw-a, header and batch of gw-b', token: TOKEN_A, header: 'gw-b', agent: 'gw-b', status: 403 },
    { as: 'token of gw-a, header of gw-a, batch of gw-b', token: TOKEN_A, header: 'gw-a', agent: 'gw-b', status: 403 },
    { as: 'token of gw-a, no header, batch of gw-b', token: TOKEN_A, header: undefined, agent: 'gw-b', status: 403 },
    { as: 'shared token, as gw-b (which has its own)', token: SHARED, header: 'gw-b', agent: 'gw-b', status: 403 },
    { as: 'shared token, no header, batch of gw-b', token: SHARED, header: undefined, agent: 'gw-b', status: 403 },
    { as: 'an unknown token', token: 'not-a-token-of-anyone', header: 'gw-b', agent: 'gw-b', status: 401 },
    { as: 'no token', token: undefined, header: 'gw-b', agent: 'gw-b', status: 401 },
  ];
  for (const [i, a] of attempts.entries()) {
    const headers: Record<string, string> = {};
    if (a.token !== undefined) headers.authorization = `Bearer ${a.token}`;
    if (a.header !== undefined) headers['x-tributary-agent'] = a.header;
    const res = await post(base, forgedBatch(a.agent, epoch, 1_000_000 + i, 1), headers);
    assert.equal(res.status, a.status, a.as);
  }
  assert.equal(counter('http_uploads_forbidden'), attempts.length, 'every refusal is counted');
  assert.equal(cloud.counters.get('batches_written'), 0, 'nothing of them was written');
  const logged = await waitFor('the refusal to be logged', () =>
    lines.find((l) => /token of gw-a may not post as gw-b/.test(l)),
  );
  assert.match(logged, /http_upload_forbidden/);

  // The real agents, each with its own token, deliver everything.
  const gwA = await startAgent(t, cloud, 'gw-a', TOKEN_A);
  const gwB = await startAgent(t, cloud, 'gw-b', TOKEN_B);
  await sendReadings(cloud, gwA, 'gw-a', 0, 300);
  await sendReadings(cloud, gwB, 'gw-b', 0, 300);
  assert.deepEqual(await gwA.stop(20_000), { drained: true });
  assert.deepEqual(await gwB.stop(20_000), { drained: true });
  assert.equal(await countInInflux('tokens', 'gw-a'), 300);
  assert.equal(await countInInflux('tokens', 'gw-b'), 300);
  const forgedPoints = await influxQuery(
    influxd.url,
    'tokens',
    `SELECT count("count") FROM "temperature" WHERE "device" = 'forged'`,
  );
  assert.deepEqual(forgedPoints, [], 'no forged point reached InfluxDB');
});

test('/api/agents, /api/alerts and /metrics need the read token when the server has credentials; /health stays open', {
  timeout: 60_000,
}, async (t) => {
  const read = async (base: string, path: string, token?: string): Promise<number> =>
    (await fetch(`${base}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }))
      .status;
  const paths = ['/api/agents', '/api/alerts', '/metrics'];

  const withReadToken = await startCloud(t, 'reads', {
    agents: [{ agentId: 'gw-a', token: TOKEN_A }],
    readToken: READ,
  });
  for (const path of paths) {
    assert.equal(await read(withReadToken.base, path), 401, `${path} without a token`);
    assert.equal(await read(withReadToken.base, path, TOKEN_A), 401, `${path} with an agent’s token`);
    assert.equal(await read(withReadToken.base, path, READ), 200, `${path} with the read token`);
  }
  assert.equal(await read(withReadToken.base, '/health'), 200, '/health is open');
  assert.equal(withReadToken.counter('http_reads_refused'), 6);

  // With only the shared token (as before per-agent tokens), reads need that token.
  const shared = await startCloud(t, 'reads_shared', { token: SHARED });
  for (const path of paths) {
    assert.equal(await read(shared.base, path), 401, `${path} without a token`);
    assert.equal(await read(shared.base, path, SHARED), 200, `${path} with the shared token`);
  }
});

test('slow uploads by one agent take only its share: another agent’s upload still gets in', {
  timeout: 60_000,
}, async (t) => {
  const agents = [
    { agentId: 'gw-a', token: TOKEN_A },
    { agentId: 'gw-b', token: TOKEN_B },
  ];
  const sockets: Socket[] = [];
  t.after(() => sockets.forEach((s) => s.destroy())); // before the cloud stops, which waits for open requests
  const { cloud, base, lines, counter } = await startCloud(t, 'slow_uploads', {
    agents,
    readToken: READ,
    maxConcurrentUploads: 32,
    maxUploadsPerAgent: 4,
  });
  const port = cloud.httpPort!;
  // gw-a's token opens 32 uploads that send their headers and half a body, then nothing.
  const answers: string[] = [];
  for (let i = 0; i < 32; i++) {
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    let answer = '';
    s.on('data', (d) => (answer += d.toString()));
    s.on('close', () => answers.push(answer));
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(
      `POST /api/v1/batches HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN_A}\r\nx-tributary-agent: gw-a\r\ncontent-length: 1000\r\n\r\n{"half":`,
    );
  }
  await waitFor('uploads over gw-a’s share to be answered', () => answers.length >= 28, 10_000);
  assert.equal(answers.length, 28, 'gw-a keeps its 4 slots; the other 28 are answered at once');
  for (const a of answers) {
    assert.match(a, /^HTTP\/1\.1 429 /, 'over its share: 429');
    assert.match(a, /\r\nretry-after: 1\r\n/i);
  }
  assert.equal(counter('http_uploads_refused'), 28, 'each counted');
  assert.match(
    await waitFor('the refusals to be logged', () => lines.find((l) => l.includes('http.maxUploadsPerAgent'))),
    /gw-a/,
  );

  // gw-b's upload is read, written and acked.
  const res = await post(base, forgedBatch('gw-b', Date.now(), 0), {
    authorization: `Bearer ${TOKEN_B}`,
    'x-tributary-agent': 'gw-b',
  });
  assert.deepEqual([res.status, res.body.status], [200, 'ok']);
});
