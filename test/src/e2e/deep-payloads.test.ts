import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeBatch } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { startInfluxd } from '../harness/influxd.js';
import { freePort } from '../harness/ports.js';
import { NodeService } from '../harness/processes.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';

/** JSON nested 20,000 levels deep: 40 KB. Found by the decoder fuzz (test/src/fuzz/decoders.test.ts). */
const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;

test('a telemetry payload nested deeper than the stack is counted as invalid; the agent goes on (it ended the agent)', {
  timeout: 60_000,
}, async (t) => {
  const dir = scratchDir('deep-agent');
  const port = await freePort();
  const agent = await NodeService.agent(dir, {
    agentId: 'gw-deep',
    sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port, maxPayloadBytes: 65_536 }],
    uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
    stateDir: join(dir, 'agent'),
  });
  t.after(() => agent.stop(5_000));
  const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  t.after(() => sensor.endAsync(true));
  await sensor.publishAsync('sensors/s1/telemetry', deep, { qos: 1 });
  await sensor.publishAsync('sensors/s1/telemetry', `{"device":"s1","values":{"temperature":${deep}}}`, { qos: 1 });
  await sensor.publishAsync(
    'sensors/s1/telemetry',
    JSON.stringify({ device: 's1', ts: Date.now(), values: { temperature: 21 } }),
    { qos: 1 },
  );
  await waitFor(
    'the reading after them',
    async () => (await agent.metric('tributary_agent_readings_accepted_total')) === 1,
  );
  assert.equal(await agent.metric('tributary_agent_invalid_schema_total'), 2);
  assert.ok(agent.running);
});

test('a batch nested deeper than the stack is refused as invalid and acked rejected; the processor goes on', {
  timeout: 60_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const dir = scratchDir('deep-cloud');
  const port = await freePort();
  const cloud = await NodeService.cloud(dir, {
    broker: { type: 'embedded', host: '127.0.0.1', port },
    influx: { url: influxd.url, database: 'deep' },
    stateDir: join(dir, 'cloud'),
  });
  t.after(() => cloud.stop());
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'tributary-agent-gw-deep',
    reconnectPeriod: 0,
  });
  t.after(() => client.endAsync(true));
  const acks: string[] = [];
  client.on('message', (_topic, payload) => acks.push(payload.toString()));
  await client.subscribeAsync('tributary/v1/agents/gw-deep/acks', { qos: 1 });
  await client.publishAsync('tributary/v1/agents/gw-deep/batches', deep, { qos: 1 });
  const ok = { v: 1 as const, agent: 'gw-deep', epoch: 1, seq: 1, sentAt: Date.now(), counters: {}, windows: [] };
  await client.publishAsync('tributary/v1/agents/gw-deep/batches', encodeBatch(ok), { qos: 1 });
  await waitFor('an ack for the valid batch', () => acks.some((a) => a.includes('"seq":1') && a.includes('"ok"')));
  assert.equal(await cloud.metric('tributary_cloud_batches_invalid_total'), 1);
  assert.ok(cloud.running);
});
