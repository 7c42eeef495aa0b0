import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test, type TestContext } from 'node:test';
import { topics, UnauthenticatedLimitsConfig, type Ack } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../broker/embedded.js';
import { ForeignAgentError, Intake, Pipelined, type BatchHandler } from './intake.js';
import { MqttIngest } from './mqtt.js';

/** A real aedes broker, the processor's ingest with a backlog of one batch in front of `handle`, and an agent client. */
async function rig(t: TestContext, handle: BatchHandler, maxStallMs: number) {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    processorClientId: 'tributary-cloud',
    maxClients: 100,
    maxPacketBytes: 1 << 20,
    unauthenticated: UnauthenticatedLimitsConfig.parse({}),
    refused: () => undefined,
    log: silentLogger,
  });
  t.after(() => broker.close());
  const intake = new Intake(1, 1 << 20, handle);
  t.after(() => intake.stop(new Error('test over')));
  const ingest = new MqttIngest(
    { url: broker.url, clientId: 'tributary-cloud', startTimeoutMs: 5_000, maxStallMs },
    intake,
    silentLogger,
    () => undefined,
  );
  await ingest.start();
  t.after(() => ingest.stop());
  const agent = await mqtt.connectAsync(broker.url, { clientId: 'tributary-agent-gw' });
  t.after(() => agent.endAsync());
  return { intake, ingest, agent };
}

test('a backlog full for longer than maxStallMs: batches are read and left unacked, not held in the broker', {
  timeout: 30_000,
}, async (t) => {
  // A writer that never finishes (InfluxDB down): one batch being handled, one waiting, then full.
  const { intake, ingest, agent } = await rig(t, () => new Promise(() => undefined), 300);
  for (let seq = 0; seq < 20; seq++) await agent.publishAsync(topics.batches('gw'), `{"seq":${seq}}`, { qos: 1 });
  const deadline = Date.now() + 5_000;
  while (ingest.shed < 18 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(ingest.shed, 18, 'all but the batch being written and the one in the backlog were read and shed');
  assert.equal(intake.backlog, 2);
});

test('a backlog that is full but keeps taking batches in (a busy, working writer) sheds nothing', {
  timeout: 30_000,
}, async (t) => {
  // Each batch takes 20 ms to write, one at a time: the backlog of one is full all along.
  const { intake, ingest, agent } = await rig(t, () => new Promise((r) => setTimeout(() => r(undefined), 20)), 100);
  // 40 batches take about 800 ms to write, far longer than maxStallMs.
  await Promise.all(
    Array.from({ length: 40 }, (_, seq) => agent.publishAsync(topics.batches('gw'), `{"seq":${seq}}`, { qos: 1 })),
  );
  const deadline = Date.now() + 5_000;
  while (intake.backlog > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(intake.backlog, 0, 'every batch was handled');
  assert.equal(ingest.shed, 0);
});

test('a batch naming another agent than its topic’s is answered as rejected on the topic’s acks', {
  timeout: 30_000,
}, async (t) => {
  const rejected: Ack = {
    v: 1,
    agent: 'gw',
    seq: 7,
    status: 'rejected',
    reason: 'batch says agent other but came as gw',
  };
  const { agent } = await rig(
    t,
    (_p, topicAgent) =>
      new Pipelined(Promise.resolve(), Promise.reject(new ForeignAgentError('other', topicAgent!, rejected))),
    1_000,
  );
  await agent.subscribeAsync(topics.acks('gw'), { qos: 1 });
  const answer = new Promise<string>((resolve) =>
    agent.once('message', (_topic, payload) => resolve(payload.toString())),
  );
  await agent.publishAsync(topics.batches('gw'), '{"agent":"other","seq":7}', { qos: 1 });
  assert.deepEqual(JSON.parse(await answer), rejected);
});

test('the broker and the ingest write packets without building mqtt-packet’s table of 65,536 numbers (7 MB of heap)', {
  timeout: 30_000,
}, async (t) => {
  const acked = new Pipelined(Promise.resolve(), Promise.resolve({ v: 1, agent: 'gw', seq: 1, status: 'ok' } as Ack));
  const { agent } = await rig(t, () => acked, 1_000);
  await agent.subscribeAsync(topics.acks('gw'), { qos: 1 });
  const answer = new Promise<string>((resolve) =>
    agent.once('message', (_topic, payload) => resolve(payload.toString())),
  );
  await agent.publishAsync(topics.batches('gw'), '{"agent":"gw","seq":1}', { qos: 1 });
  assert.equal(JSON.parse(await answer).status, 'ok', 'packets went both ways');
  // The table mqtt-packet fills on the first packet it writes, unless told not to. The switch sets
  // it on the copy this package resolves; aedes or mqtt.js with a nested copy of their own would
  // escape it, so every copy they resolve is checked (one module per resolved path).
  const here = createRequire(import.meta.url);
  const copies = new Set([here.resolve('mqtt-packet/numbers.js')]);
  for (const user of ['aedes', 'mqtt']) copies.add(createRequire(here.resolve(user)).resolve('mqtt-packet/numbers.js'));
  for (const path of copies) {
    const numbers = here(path) as { cache: Record<number, Buffer> };
    assert.equal(Object.keys(numbers.cache).length, 0, `${path} cached numbers`);
  }
});
