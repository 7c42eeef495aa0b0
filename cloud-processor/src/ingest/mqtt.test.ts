import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger, topics } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../broker.js';
import { Intake } from './intake.js';
import { MqttIngest } from './mqtt.js';

test('a backlog full for longer than maxStallMs: batches are read and left unacked, not held in the broker', { timeout: 30_000 }, async (t) => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, processorClientId: 'tributary-cloud', maxClients: 100, log: silentLogger });
  t.after(() => broker.close());
  // A writer that never finishes (InfluxDB down): one batch being handled, one waiting, then full.
  const intake = new Intake(1, 1 << 20, () => new Promise(() => undefined));
  t.after(() => intake.stop(new Error('test over')));
  const ingest = new MqttIngest({ url: broker.url, clientId: 'tributary-cloud', startTimeoutMs: 5_000, maxStallMs: 300 }, intake, silentLogger, () => undefined);
  await ingest.start();
  t.after(() => ingest.stop());

  const agent = await mqtt.connectAsync(broker.url, { clientId: 'tributary-agent-gw' });
  t.after(() => agent.endAsync());
  for (let seq = 0; seq < 20; seq++) await agent.publishAsync(topics.batches('gw'), `{"seq":${seq}}`, { qos: 1 });
  const deadline = Date.now() + 5_000;
  while (ingest.shed < 18 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(ingest.shed, 18, 'all but the batch being written and the one in the backlog were read and shed');
  assert.equal(intake.backlog, 2);
});

test('a backlog that is full but keeps taking batches in (a busy, working writer) sheds nothing', { timeout: 30_000 }, async (t) => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, processorClientId: 'tributary-cloud', maxClients: 100, log: silentLogger });
  t.after(() => broker.close());
  // Each batch takes 20 ms to write, one at a time: the backlog of one is full all along.
  const intake = new Intake(1, 1 << 20, () => new Promise((r) => setTimeout(() => r(undefined), 20)));
  t.after(() => intake.stop(new Error('test over')));
  const ingest = new MqttIngest({ url: broker.url, clientId: 'tributary-cloud', startTimeoutMs: 5_000, maxStallMs: 100 }, intake, silentLogger, () => undefined);
  await ingest.start();
  t.after(() => ingest.stop());
  const agent = await mqtt.connectAsync(broker.url, { clientId: 'tributary-agent-gw' });
  t.after(() => agent.endAsync());
  // 40 batches take about 800 ms to write, far longer than maxStallMs.
  await Promise.all(Array.from({ length: 40 }, (_, seq) => agent.publishAsync(topics.batches('gw'), `{"seq":${seq}}`, { qos: 1 })));
  const deadline = Date.now() + 5_000;
  while (intake.backlog > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(intake.backlog, 0, 'every batch was handled');
  assert.equal(ingest.shed, 0);
});
