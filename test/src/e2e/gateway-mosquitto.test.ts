import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent, MosquittoSource } from '@tributary/edge-agent';
import { AgentConfigSchema, ProcessorConfigSchema, type AgentConfigInput } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { startMosquitto } from '../harness/mosquitto.js';
import { freePort } from '../harness/ports.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { recordWarnings } from '../harness/warnings.js';

/** An agent whose one source is a `mosquitto` on a free port, started in this process. */
async function gateway(t: test.TestContext, source: Record<string, unknown>, rest: Partial<AgentConfigInput> = {}) {
  const port = await freePort();
  const warnings: string[] = [];
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'gw-mosquitto',
      sources: [{ type: 'mosquitto', host: '127.0.0.1', port, ...source }],
      uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
      reportIntervalMs: 200,
      // Sensors on separate connections interleave readings spanning minutes: none of them is late.
      windows: { lengthMs: 60_000, allowedLatenessMs: 600_000 },
      ...rest,
    }),
    stateDir: join(scratchDir('gateway-mosquitto'), 'agent'),
    log: recordWarnings(warnings),
  });
  await agent.start();
  let stopped: ReturnType<EdgeAgent['stop']> | undefined;
  const stop = (drainTimeoutMs: number): ReturnType<EdgeAgent['stop']> => (stopped ??= agent.stop(drainTimeoutMs));
  t.after(() => stop(500));
  return { agent, stop, url: `mqtt://127.0.0.1:${port}`, warnings, mosquitto: agent.sources[0] as MosquittoSource };
}

/** Publishes `count` readings of `device` at QoS 1, stamped `t0` + i seconds; resolves when all are acknowledged. */
function publishReadings(sensor: MqttClient, device: string, count: number, t0: number, from = 0): Promise<unknown> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      sensor.publishAsync(
        `sensors/${device}/telemetry`,
        JSON.stringify({ device, ts: t0 + (from + i) * 1_000, seq: from + i, values: { temperature: 20 + (i % 5) } }),
        { qos: 1 },
      ),
    ),
  );
}

test("MQTT 5 and 3.1.1 sensors publishing to the gateway's Mosquitto arrive exactly, each only for its own devices, and reach InfluxDB through an MQTT 5 uplink", {
  timeout: 120_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const cloudBroker = await startMosquitto();
  t.after(() => cloudBroker.stop());
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'external', url: cloudBroker.url },
      influx: { url: influxd.url, database: 'mqtt5' },
      stateDir: join(scratchDir('mqtt5-cloud'), 'cloud'),
    }),
    log: silentLogger,
  });
  await cloud.start();
  t.after(() => cloud.stop());
  const { agent, stop, url } = await gateway(
    t,
    {
      users: [
        { username: 'th-5', password: 'password-of-th-5' },
        { username: 'hub-3', password: 'password-of-hub-3', devices: ['th-3a', 'th 3b'] },
      ],
    },
    {
      batch: { maxDelayMs: 100 },
      uplink: { type: 'mqtt', url: cloudBroker.url, protocolVersion: 5, ackTimeoutMs: 5_000 },
    },
  );

  const v5 = await mqtt.connectAsync(url, {
    username: 'th-5',
    password: 'password-of-th-5',
    protocolVersion: 5,
    clientId: 'th-5',
  });
  t.after(() => v5.endAsync());
  const v311 = await mqtt.connectAsync(url, {
    username: 'hub-3',
    password: 'password-of-hub-3',
    protocolVersion: 4,
    clientId: 'hub-3',
  });
  t.after(() => v311.endAsync());
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
  await Promise.all([
    publishReadings(v5, 'th-5', 300, t0),
    publishReadings(v311, 'th-3a', 300, t0),
    publishReadings(v311, 'th 3b', 300, t0),
  ]);

  // Rights per device: an MQTT 5 sensor is told (PUBACK 0x87); Mosquitto drops a 3.1.1 one's publish.
  await assert.rejects(
    v5.publishAsync(
      'sensors/th-3a/telemetry',
      JSON.stringify({ device: 'th-3a', ts: t0, values: { temperature: 99 } }),
      { qos: 1 },
    ),
    /Not authorized/,
  );
  await v311.publishAsync(
    'sensors/th-5/telemetry',
    JSON.stringify({ device: 'th-5', ts: t0, values: { temperature: 99 } }),
    { qos: 1 },
  );

  await waitFor('the agent to accept every reading', () => agent.counters.get('readings_accepted') === 900);
  assert.deepEqual(await stop(10_000), { drained: true }, 'the cloud acked every batch sent over the MQTT 5 uplink');
  assert.equal(
    agent.counters.get('messages_received'),
    900,
    'nothing arrived twice, and neither publish for a device the sensor does not own',
  );
  const rows = await influxQuery(
    influxd.url,
    'mqtt5',
    'SELECT sum("count"), max("max") FROM "temperature" GROUP BY "device"',
  );
  const byDevice = Object.fromEntries(rows.map((r) => [r.tags?.device, r.values[0]?.slice(1)]));
  assert.deepEqual(byDevice, { 'th-5': [300, 24], 'th-3a': [300, 24], 'th 3b': [300, 24] });
});

test('a killed Mosquitto is started again, and QoS 1 readings sensors publish while it is down arrive once they reconnect, each once', {
  timeout: 120_000,
}, async (t) => {
  const { agent, stop, url, warnings, mosquitto } = await gateway(t, {});
  const sensorOptions = { reconnectPeriod: 200, connectTimeout: 2_000 };
  const v5 = await mqtt.connectAsync(url, { ...sensorOptions, protocolVersion: 5, clientId: 'd5' });
  t.after(() => v5.endAsync(true));
  const v311 = await mqtt.connectAsync(url, { ...sensorOptions, protocolVersion: 4, clientId: 'd3' });
  t.after(() => v311.endAsync(true));
  const t0 = Date.now() - 300_000;
  await Promise.all([publishReadings(v5, 'd5', 100, t0), publishReadings(v311, 'd3', 100, t0)]);
  await waitFor('the first readings', () => agent.counters.get('readings_accepted') === 200);

  const firstPid = mosquitto.pid!;
  const down = Promise.all([v5, v311].map((s) => new Promise<void>((resolve) => s.once('offline', () => resolve()))));
  process.kill(firstPid, 'SIGKILL');
  await down;
  // Published while the gateway's broker is down: the sensors keep them and send them on reconnecting.
  const meanwhile = Promise.all([publishReadings(v5, 'd5', 100, t0, 100), publishReadings(v311, 'd3', 100, t0, 100)]);

  await waitFor('Mosquitto to be started again', () => mosquitto.pid !== undefined && mosquitto.pid !== firstPid);
  await meanwhile;
  await waitFor('the readings published meanwhile', () => agent.counters.get('readings_accepted') >= 400);
  assert.equal(agent.counters.get('mosquitto_restarts'), 1);
  await waitFor('the restart in the problem report', () =>
    warnings.some((w) => w.includes('mosquitto_restarts') && w.includes('SIGKILL')),
  );
  await stop(500);
  assert.equal(agent.counters.get('messages_received'), 400, 'each reading arrived once');
  assert.equal(agent.counters.get('readings_accepted'), 400);
});

test('readings a sensor publishes retained reach the agent once, across a restart of the agent and its Mosquitto', {
  timeout: 60_000,
}, async (t) => {
  const port = await freePort();
  const stateDir = join(scratchDir('mosquitto-retained'), 'agent');
  const config = AgentConfigSchema.parse({
    agentId: 'gw-retained',
    sources: [
      { type: 'mosquitto', host: '127.0.0.1', port, users: [{ username: 'th-r', password: 'password-of-th-r' }] },
    ],
    uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
    windows: { lengthMs: 60_000, allowedLatenessMs: 600_000 },
  });
  const login = { username: 'th-r', password: 'password-of-th-r', protocolVersion: 4 as const, reconnectPeriod: 0 };
  const first = new EdgeAgent({ config, stateDir, log: silentLogger });
  await first.start();
  const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, login);
  const t0 = Date.now() - 120_000;
  for (let i = 0; i < 10; i++)
    await sensor.publishAsync(
      'sensors/th-r/telemetry',
      JSON.stringify({ device: 'th-r', ts: t0 + i * 1_000, values: { temperature: 20 } }),
      { qos: 1, retain: true },
    );
  await waitFor('the retained readings', () => first.counters.get('readings_accepted') === 10);
  await sensor.endAsync();
  await first.stop(200); // Mosquitto saves the retained message as it stops, and loads it at the next start

  const second = new EdgeAgent({ config, stateDir, log: silentLogger });
  await second.start();
  t.after(() => second.stop(200));
  const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, login);
  t.after(() => again.endAsync());
  await again.publishAsync(
    'sensors/th-r/telemetry',
    JSON.stringify({ device: 'th-r', ts: t0 + 10_000, values: { temperature: 21 } }),
    { qos: 1 },
  );
  await waitFor('the new reading', () => second.counters.get('readings_accepted') >= 1);
  assert.equal(
    second.counters.get('messages_received'),
    1,
    'the stored retained reading was not delivered again on subscribing',
  );
});

test('the mqtt source with protocolVersion 5 keeps its persistent session: what is published while the agent is away arrives when it is back', {
  timeout: 60_000,
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const stateDir = join(scratchDir('mqtt5-session'), 'agent');
  const config = AgentConfigSchema.parse({
    agentId: 'gw-v5',
    sources: [{ type: 'mqtt', url: broker.url, protocolVersion: 5, session: 'persistent' }],
    uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
  });
  const first = new EdgeAgent({ config, stateDir, log: silentLogger });
  await first.start();
  await first.ready();
  await first.stop(200);

  const sensor = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  t.after(() => sensor.endAsync());
  await publishReadings(sensor, 'away', 50, Date.now() - 60_000);

  const second = new EdgeAgent({ config, stateDir, log: silentLogger });
  await second.start();
  t.after(() => second.stop(200));
  await waitFor(
    'the readings published while the agent was away',
    () => second.counters.get('readings_accepted') === 50,
  );
});
