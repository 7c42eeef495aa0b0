import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, encodeBatch, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import mqtt from 'mqtt';
import { freePort } from '../harness/ports.js';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { startMosquitto } from '../harness/mosquitto.js';
import { waitFor } from '../harness/wait.js';
import { recordWarnings } from '../harness/warnings.js';
import { scratchDir } from '../harness/scratch.js';

const users = [
  { role: 'agent', username: 'gw-a', password: 'password-of-a' },
  { role: 'agent', username: 'gw-b', password: 'password-of-b' },
  { role: 'reader', username: 'grafana', password: 'password-of-grafana' },
];

/** The MQTT error a refused connection or subscription produces, or undefined when it was allowed. */
async function refusal(url: string, options: mqtt.IClientOptions, subscribeTo?: string): Promise<string | undefined> {
  const client = mqtt.connect(url, { ...options, reconnectPeriod: 0, connectTimeout: 5_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    if (subscribeTo) await client.subscribeAsync(subscribeTo, { qos: 1 });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.endAsync(true);
  }
}

test('with broker users, an agent delivers under its own name and no one can pass batches off as another agent', {
  timeout: 60_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const dir = scratchDir('logins');
  const cloudWarnings: string[] = [];
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0, users },
      influx: { url: influxd.url, database: 'logins' },
      stateDir: join(dir, 'cloud'),
    }),
    log: recordWarnings(cloudWarnings),
  });
  await cloud.start();
  t.after(() => cloud.stop());
  const url = cloud.brokerUrl;

  // A real agent logged in as gw-a delivers every reading.
  const readings = 600;
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
  const lines = Array.from({ length: readings }, (_, i) =>
    JSON.stringify({ device: `d${i % 3}`, ts: t0 + i * 1_000, values: { temperature: 20 + (i % 7) } }),
  );
  writeFileSync(join(dir, 'readings.jsonl'), lines.join('\n'));
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'gw-a',
      sources: [{ type: 'file', path: join(dir, 'readings.jsonl') }],
      windows: { lengthMs: 60_000 },
      batch: { maxDelayMs: 100 },
      uplink: {
        type: 'mqtt',
        url,
        username: 'gw-a',
        password: 'password-of-a',
        ackTimeoutMs: 5_000,
        backoff: { initialMs: 100, maxMs: 1_000 },
      },
    }),
    stateDir: join(dir, 'agent'),
    log: silentLogger,
  });
  await agent.start();
  await waitFor('the agent to read the file', () => agent.counters.get('readings_accepted') === readings);
  assert.deepEqual(await agent.stop(), { drained: true }, 'the cloud acked every batch of gw-a');
  const rows = await influxQuery(
    influxd.url,
    'logins',
    'SELECT sum("count") FROM "temperature" WHERE "agent" = \'gw-a\'',
  );
  assert.equal(rows[0]?.values[0]?.[1], readings, 'Σ count in InfluxDB equals the readings gw-a accepted');

  // Logins that must be refused.
  assert.match(
    (await refusal(url, { clientId: 'anon' })) ?? 'allowed',
    /Bad username or password|Not authorized/i,
    'no anonymous clients',
  );
  assert.match(
    (await refusal(url, { clientId: 'tributary-agent-gw-a', username: 'gw-a', password: 'wrong' })) ?? 'allowed',
    /Bad username or password/i,
  );
  assert.match(
    (await refusal(url, { clientId: 'tributary-agent-gw-a', username: 'gw-b', password: 'password-of-b' })) ??
      'allowed',
    /Bad username or password/i,
    'gw-b cannot take gw-a’s session',
  );
  assert.match(
    (await refusal(url, { clientId: 'tributary-cloud', username: 'grafana', password: 'password-of-grafana' })) ??
      'allowed',
    /Bad username or password/i,
    'no one takes the processor’s session',
  );
  // Subscriptions: a reader sees alerts but not batches; an agent sees only its own acks.
  const reader = { clientId: 'dash', username: 'grafana', password: 'password-of-grafana' };
  assert.equal(await refusal(url, reader, 'tributary/v1/alerts/#'), undefined, 'a reader may read alerts');
  // …but not in a persistent session, whose messages the broker would keep without bound while it is away.
  assert.match(
    (await refusal(url, { ...reader, clean: false })) ?? 'allowed',
    /Not authorized/i,
    'a reader may not keep a persistent session',
  );
  assert.match((await refusal(url, reader, 'tributary/v1/agents/+/batches')) ?? 'allowed', /Subscribe error/);
  const gwB = { clientId: 'tributary-agent-gw-b', username: 'gw-b', password: 'password-of-b' };
  assert.match((await refusal(url, gwB, 'tributary/v1/agents/gw-a/acks')) ?? 'allowed', /Subscribe error/);

  // gw-b publishing a batch as gw-a (far ahead in seq, to spoil gw-a's dedupe) is cut off, and nothing of it is processed.
  const received = cloud.counters.get('batches_received');
  const forged = mqtt.connect(url, { ...gwB, reconnectPeriod: 0 });
  await new Promise<void>((resolve) => forged.once('connect', () => resolve()));
  const closed = new Promise<void>((resolve) => forged.once('close', () => resolve()));
  const batch = { v: 1 as const, agent: 'gw-a', epoch: 1, seq: 2 ** 40, sentAt: Date.now(), counters: {}, windows: [] };
  forged.publish('tributary/v1/agents/gw-a/batches', encodeBatch(batch), { qos: 1 });
  const cutOff = await Promise.race([
    closed.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
  ]);
  forged.end(true);
  assert.ok(cutOff, 'the broker closed the forging connection');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(cloud.counters.get('batches_received'), received, 'the forged batch never reached the processor');

  // Every refusal is counted; each kind is logged once, however many there were in 10 s.
  const counted = ['logins', 'sessions', 'subscriptions', 'publishes'].map((k) =>
    cloud.counters.get(`mqtt_${k}_refused` as 'mqtt_logins_refused'),
  );
  assert.deepEqual(counted, [4, 1, 2, 1], 'logins, persistent sessions, subscriptions and publishes refused');
  const logged = (what: string): number => cloudWarnings.filter((w) => w.startsWith(what)).length;
  assert.deepEqual(
    ['MQTT login refused', 'persistent MQTT session refused', 'MQTT subscription refused', 'MQTT publish refused'].map(
      logged,
    ),
    [1, 1, 1, 1],
    cloudWarnings.join('\n'),
  );
});

test('a broker that cannot be reached fails the start within its timeout, naming the broker but not the password', {
  timeout: 30_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const dir = scratchDir('nobroker');
  const port = await freePort();
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'external', url: `mqtt://proc:hunter22@127.0.0.1:${port}` },
      ingest: { startTimeoutMs: 1_500 },
      influx: { url: influxd.url, database: 'nobroker' },
      stateDir: join(dir, 'cloud'),
    }),
    log: silentLogger,
  });
  const started = Date.now();
  await assert.rejects(cloud.start(), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(
        `no subscription at mqtt://proc:\\*\\*\\*@127\\.0\\.0\\.1:${port} within 1500 ms \\(last error: .*ECONNREFUSED`,
      ),
    );
    assert.doesNotMatch(err.message, /hunter22/);
    return true;
  });
  assert.ok(Date.now() - started < 10_000);
  await cloud.stop();
});

test('the agent reads telemetry from a broker that wants a login, and says why when the login is refused', {
  timeout: 60_000,
}, async (t) => {
  const broker = await startMosquitto({
    users: [
      { username: 'gateway', password: 'gateway-secret' },
      { username: 'sensor', password: 'sensor-secret' },
    ],
  });
  t.after(() => broker.stop());
  const dir = scratchDir('source-login');
  const agentWith = (password: string, warnings: string[]): EdgeAgent =>
    new EdgeAgent({
      config: AgentConfigSchema.parse({
        agentId: `gw-${password.length}`,
        sources: [{ type: 'mqtt', url: broker.url, username: 'gateway', password, topics: ['sensors/+/telemetry'] }],
        windows: { lengthMs: 60_000 },
        uplink: { type: 'mqtt', url: broker.url, username: 'gateway', password },
      }),
      stateDir: join(dir, `agent-${password.length}`),
      log: recordWarnings(warnings),
    });

  const refusedWarnings: string[] = [];
  const refused = agentWith('wrong', refusedWarnings);
  t.after(() => refused.stop(500));
  await refused.start();
  await waitFor('the refused login to be reported', () =>
    refusedWarnings.some((w) => w.startsWith('telemetry broker error')),
  );
  const warning = refusedWarnings.find((w) => w.startsWith('telemetry broker error'))!;
  assert.match(warning, /Bad username or password|Not authorized/i, 'the warning gives the broker’s reason');
  assert.ok(!warning.includes('wrong'), 'and not the password');
  await refused.stop();

  const agent = agentWith('gateway-secret', []);
  t.after(() => agent.stop(500)); // no cloud here acks its batches
  await agent.start();
  const sensor = await mqtt.connectAsync(broker.url, { username: 'sensor', password: 'sensor-secret' });
  t.after(() => sensor.endAsync());
  const ts = Date.now();
  // The subscription may still be on its way: publish until readings arrive, then count exactly.
  await waitFor('the first reading through the logged-in source', async () => {
    await sensor.publishAsync(
      'sensors/s1/telemetry',
      JSON.stringify({ device: 's1', ts, values: { temperature: 21 } }),
      { qos: 1 },
    );
    return agent.counters.get('readings_accepted') > 0;
  });
  const before = agent.counters.get('readings_accepted');
  for (let i = 1; i <= 50; i++)
    await sensor.publishAsync(
      'sensors/s1/telemetry',
      JSON.stringify({ device: 's1', ts: ts + i, values: { temperature: 21 } }),
      { qos: 1 },
    );
  await waitFor('50 more readings', () => agent.counters.get('readings_accepted') === before + 50);
});
