import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CloudProcessor, LineBuilder } from '@tributary/cloud-processor';
import { ProcessorConfigSchema, type Ack, type ProcessorConfigInput } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { Influx2Server } from '../harness/influx2.js';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { waitFor } from '../harness/wait.js';
import { WindowBatches } from '../harness/window-batches.js';
import { scratchDir } from '../harness/scratch.js';

async function cloudWith(
  t: TestContext,
  config: ProcessorConfigInput,
): Promise<{ cloud: CloudProcessor; stateDir: string }> {
  const stateDir = scratchDir('cloud-writes');
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      stateDir,
      ...config,
    }),
    log: silentLogger,
  });
  await cloud.start();
  t.after(() => cloud.stop());
  return { cloud, stateDir };
}

const T0 = 1_700_000_040_000;

test('processor + real influxd: a batch with points influxd refuses is acked ok; those points are dead-lettered with the reason, the rest written', {
  timeout: 30_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const { cloud, stateDir } = await cloudWith(t, { influx: { url: influxd.url, database: 'refused' } });
  const gen = new WindowBatches({ series: 60, agents: 1, windowMs: 60_000, readingsPerWindow: 60, startMs: T0 });
  // `count` of humidity becomes a float in this shard: every humidity window of the batch conflicts.
  const seed = new LineBuilder().start('humidity').tag('device', 'seed').float('count', 1.5).end(T0)!;
  assert.equal(
    (await fetch(`${influxd.url}/write?db=refused&precision=ms`, { method: 'POST', body: seed })).status,
    204,
  );
  const batch = gen.nextPayloads()[0]!;
  const ack = await cloud.intake.admit(batch.payload, batch.agent).ack;
  assert.deepEqual(ack, { v: 1, agent: batch.agent, epoch: 0, seq: 0, status: 'ok' });
  const humidity = (JSON.parse(batch.payload.toString()) as { windows: Array<{ metric: string }> }).windows.filter(
    (w) => w.metric === 'humidity',
  ).length;
  assert.ok(humidity > 0);
  assert.equal(cloud.counters.get('points_dead_lettered'), humidity);
  const dead = readFileSync(join(stateDir, 'influx-dead-letter.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { line: string; reason: string });
  assert.equal(dead.length, humidity);
  assert.ok(dead.every((d) => d.line.startsWith('humidity,') && /field type conflict/.test(d.reason)));
  const written = await influxQuery(
    influxd.url,
    'refused',
    'SELECT count("count") FROM "temperature","pressure","co2","vibration","current"',
  );
  const windows = written.reduce((n, s) => n + Number(s.values[0]![1]), 0);
  assert.equal(windows, batch.windows - humidity, 'every other window is in InfluxDB');
  assert.equal(cloud.counters.get('batches_written'), 1);
});

test('processor: a copy that arrives while its original is being written is answered duplicate, written once', async (t) => {
  const server = await Influx2Server.start();
  t.after(() => server.close());
  const { cloud } = await cloudWith(t, {
    influx: { api: 'v2', url: server.url, org: server.org, bucket: server.bucket, token: server.token },
  });
  server.script.push({ status: 503, body: { code: 'unavailable', message: 'busy' } });
  const gen = new WindowBatches({ series: 10, agents: 1, windowMs: 60_000, readingsPerWindow: 60, startMs: T0 });
  const b = gen.nextPayloads()[0]!;
  const acks = await Promise.all([
    cloud.intake.admit(b.payload, b.agent).ack,
    cloud.intake.admit(b.payload, b.agent).ack,
  ]);
  assert.deepEqual(
    acks.map((a) => a?.status),
    ['ok', 'duplicate'],
  );
  assert.equal(cloud.counters.get('batches_written'), 1);
  assert.equal(cloud.counters.get('batches_duplicate'), 1);
});

test('backpressure: with InfluxDB failing, the write backlog fills, intake stops admitting and nothing is acked; then all of it is written in order', {
  timeout: 30_000,
}, async (t) => {
  const server = await Influx2Server.start();
  t.after(() => server.close());
  const { cloud } = await cloudWith(t, {
    ingest: { maxBacklogBatches: 4 },
    influx: {
      api: 'v2',
      url: server.url,
      org: server.org,
      bucket: server.bucket,
      token: server.token,
      maxBufferedLines: 500,
      batch: { maxLines: 200 },
      retry: { initialMs: 10, maxMs: 50 },
    },
  });
  for (let i = 0; i < 100_000; i++)
    server.script.push({
      status: 503,
      headers: { 'retry-after': '0' },
      body: { code: 'unavailable', message: 'down' },
    });
  const gen = new WindowBatches({ series: 100, agents: 1, windowMs: 60_000, readingsPerWindow: 60, startMs: T0 });
  let admitted = 0;
  const acks: Array<Promise<Ack | undefined>> = [];
  const offered = Array.from({ length: 40 }, () => gen.nextPayloads()[0]!);
  const offering = (async () => {
    for (const b of offered) {
      const a = cloud.intake.admit(b.payload, b.agent);
      acks.push(a.ack);
      await a.admitted;
      admitted++;
    }
  })();
  await waitFor('InfluxDB to be retried a few times', () => cloud.counters.get('write_retries') >= 20, 10_000, 10);
  const plateau = admitted;
  await waitFor('more retries', () => cloud.counters.get('write_retries') >= 60, 10_000, 10);
  assert.equal(admitted, plateau, 'admission stopped: MQTT would stop reading, HTTP answer 503');
  assert.ok(plateau < 15, `admitted ${plateau} of 40: the backlogs are bounded`);
  assert.ok(cloud.writer.bufferedLines <= 500 + 101, `write backlog ${cloud.writer.bufferedLines} lines`);
  assert.equal(cloud.counters.get('batches_written'), 0, 'nothing acked');
  server.script.length = 0;
  await offering;
  const done = await Promise.all(acks);
  assert.deepEqual(
    done.map((a) => a?.seq),
    offered.map((_, i) => i),
    'every batch acked ok, in order',
  );
  assert.ok(done.every((a) => a?.status === 'ok'));
  assert.equal(
    server.lines.filter((l) => !l.startsWith('anomaly,')).length,
    40 * 101,
    'every window and agent-stats point written once',
  );
});

test('401 from InfluxDB: /health is 503 with the reason, influx_blocked is 1, nothing is acked; a fixed token recovers without a restart', {
  timeout: 30_000,
}, async (t) => {
  const server = await Influx2Server.start();
  t.after(() => server.close());
  const { cloud } = await cloudWith(t, {
    http: { host: '127.0.0.1', port: 0 },
    influx: {
      api: 'v2',
      url: server.url,
      org: server.org,
      bucket: server.bucket,
      token: server.token,
      blockedRetryMs: 300,
    },
  });
  server.token = 'rotated-by-the-admin';
  const gen = new WindowBatches({ series: 10, agents: 1, windowMs: 60_000, readingsPerWindow: 60, startMs: T0 });
  const b = gen.nextPayloads()[0]!;
  let acked = false;
  const ack = cloud.intake.admit(b.payload, b.agent).ack.then((a) => ((acked = true), a));
  const health = await waitFor(
    '/health to say why',
    async () => {
      const res = await fetch(`http://127.0.0.1:${cloud.httpPort}/health`);
      return res.status === 503
        ? ((await res.json()) as { reasons: string[]; influx: { state: string; status: number; reason: string } })
        : undefined;
    },
    10_000,
  );
  assert.deepEqual([health.influx.state, health.influx.status], ['blocked', 401]);
  assert.equal(health.reasons.length, 1);
  assert.match(
    health.reasons[0]!,
    /^InfluxDB refuses the writes \(.*unauthorized.*\); nothing is acked until that is fixed$/,
  );
  assert.match(health.influx.reason, /unauthorized/);
  assert.match(await cloud.metrics(), /^tributary_cloud_influx_blocked 1$/m);
  assert.equal(acked, false);
  server.token = 'secret-token';
  assert.equal((await ack)?.status, 'ok');
  assert.equal((await fetch(`http://127.0.0.1:${cloud.httpPort}/health`)).status, 200);
});
