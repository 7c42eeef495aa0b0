import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, encodeBatch, ProcessorConfigSchema, topics } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { connectPacket, rawConnection, remainingLength, type RawConnection } from '../harness/mqtt-raw.js';
import { freePort } from '../harness/ports.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { recordWarnings } from '../harness/warnings.js';

/**
 * Connects a raw TCP client, sends a clean CONNECT, then only the fixed header and the first KiB
 * of a PUBLISH that says it is `declaredBytes` long, and resolves once the broker closes the
 * connection (a broker that buffered the body instead would wait for the rest).
 */
async function startHugePublish(port: number, declaredBytes: number): Promise<RawConnection> {
  const conn = await rawConnection(port);
  conn.socket.write(connectPacket('huge-publisher'));
  const topic = Buffer.from('sensors/x/telemetry');
  conn.socket.write(
    Buffer.concat([
      Buffer.from([0x30, ...remainingLength(declaredBytes), 0, topic.length]),
      topic,
      Buffer.alloc(1024, 0x7b),
    ]),
  );
  return conn;
}

test("the cloud's embedded broker closes a connection at the header of a packet over maxBatchBytes + 64 KiB, and goes on acking batches", {
  timeout: 60_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const warnings: string[] = [];
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      maxBatchBytes: 64 * 1024,
      influx: { url: influxd.url, database: 'limits' },
      stateDir: join(scratchDir('limits'), 'cloud'),
    }),
    log: recordWarnings(warnings),
  });
  await cloud.start();
  t.after(() => cloud.stop());
  const port = Number(new URL(cloud.brokerUrl).port);

  // 50 MB announced, 1 KiB sent: the broker hangs up without waiting for (or buffering) the rest.
  const huge = await startHugePublish(port, 50 * 1024 * 1024);
  t.after(() => huge.socket.destroy());
  await huge.closed;
  assert.equal(cloud.counters.get('mqtt_packets_refused'), 1);
  assert.ok(
    warnings.some(
      (w) => w.includes('packet over the size limit') && w.includes(`over the limit of ${64 * 1024 + 64 * 1024}`),
    ),
    warnings.join('\n'),
  );

  // A batch just under the limit still arrives whole and is acked.
  const agent = await mqtt.connectAsync(cloud.brokerUrl, { clientId: 'tributary-agent-gw-1', clean: true });
  t.after(() => agent.endAsync());
  const acks: string[] = [];
  agent.on('message', (_topic, payload) => acks.push(payload.toString()));
  await agent.subscribeAsync(topics.acks('gw-1'), { qos: 1 });
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  const windows = Array.from({ length: 100 }, (_, i) => ({
    device: `d${i}`,
    metric: 'temperature',
    start,
    end: start + 60_000,
    count: 1,
    sum: 20,
    min: 20,
    max: 20,
    mean: 20,
    m2: 0,
    first: 20,
    last: 20,
    firstTs: start,
    lastTs: start,
    rev: 0,
  }));
  const batch = encodeBatch({ v: 1, agent: 'gw-1', epoch: 1, seq: 0, sentAt: Date.now(), windows, counters: {} });
  assert.ok(batch.length > 10_000 && batch.length < 64 * 1024, `batch of ${batch.length} bytes`);
  await agent.publishAsync(topics.batches('gw-1'), batch, { qos: 1 });
  await waitFor('the ack of the batch', () =>
    acks.some((a) => (JSON.parse(a) as { seq: number; status: string }).status === 'ok'),
  );
  const rows = await influxQuery(influxd.url, 'limits', 'SELECT count("mean") FROM "temperature"');
  assert.equal(rows[0]?.values?.[0]?.[1], 100);
});

test("the gateway's mqtt-broker source: packet limit, logins, nothing kept for later, connection cap", {
  timeout: 60_000,
}, async (t) => {
  const port = await freePort();
  const warnings: string[] = [];
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'gw-limits',
      sources: [
        {
          type: 'mqtt-broker',
          host: '127.0.0.1',
          port,
          maxClients: 3,
          users: [{ username: 'sensor', password: 'sensor-secret' }],
        },
      ],
      uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
      stateDir: join(scratchDir('gateway-limits'), 'agent'),
      reportIntervalMs: 200,
    }),
    log: recordWarnings(warnings),
  });
  t.after(() => agent.stop(500)); // no cloud here acks its batches
  await agent.start();
  const url = `mqtt://127.0.0.1:${port}`;
  const login = { username: 'sensor', password: 'sensor-secret', reconnectPeriod: 0 };

  // Over maxPayloadBytes (4 KiB) + 64 KiB: closed at the header.
  const huge = await startHugePublish(port, 10 * 1024 * 1024);
  t.after(() => huge.socket.destroy());
  await huge.closed;
  assert.equal(agent.counters.get('broker_packets_refused'), 1);

  // Without a login, or with a wrong one: refused, counted, and reported with who it was.
  await assert.rejects(
    mqtt.connectAsync(url, { clientId: 'anonymous-sensor', reconnectPeriod: 0 }),
    /Bad username or password/,
  );
  await assert.rejects(mqtt.connectAsync(url, { ...login, password: 'wrong-password' }), /Bad username or password/);
  assert.equal(agent.counters.get('broker_logins_refused'), 2);

  // A logged-in sensor's telemetry is read; its retained flag is dropped, so a later subscriber gets nothing stored.
  const sensor = await mqtt.connectAsync(url, login);
  t.after(() => sensor.endAsync());
  await sensor.publishAsync(
    'sensors/s1/telemetry',
    JSON.stringify({ device: 's1', ts: Date.now(), values: { temperature: 21 } }),
    { qos: 1, retain: true },
  );
  await waitFor('the reading', () => agent.counters.get('readings_accepted') === 1);
  const dashboard = await mqtt.connectAsync(url, { ...login, clientId: 'dashboard', clean: true });
  t.after(() => dashboard.endAsync());
  const seen: string[] = [];
  dashboard.on('message', (topic) => seen.push(topic));
  const granted = await dashboard.subscribeAsync('sensors/+/telemetry', { qos: 1 });
  assert.equal(granted[0]?.qos, 1);

  // A persistent session may not subscribe: the broker would keep its messages while it is away, without bound.
  const persistent = await mqtt.connectAsync(url, { ...login, clientId: 'persistent-listener', clean: false });
  t.after(() => persistent.endAsync());
  // mqtt.js turns the refusal in the SUBACK (0x80) into an error.
  await assert.rejects(persistent.subscribeAsync('sensors/+/telemetry', { qos: 1 }), /Subscribe error/);
  assert.equal(agent.counters.get('broker_subscriptions_refused'), 1);

  // maxClients 3: sensor, dashboard and persistent are connected; a fourth is turned away.
  const fourth = mqtt.connect(url, { ...login, clientId: 'fourth' });
  const outcome = await new Promise<string>((resolve) => {
    fourth.once('connect', () => resolve('connected'));
    fourth.once('close', () => resolve('closed'));
  });
  fourth.end(true);
  assert.equal(outcome, 'closed');
  await sensor.publishAsync(
    'sensors/s2/telemetry',
    JSON.stringify({ device: 's2', ts: Date.now(), values: { temperature: 22 } }),
    { qos: 1 },
  );
  await waitFor('the second reading', () => agent.counters.get('readings_accepted') === 2);
  await waitFor('the dashboard to see it', () => seen.includes('sensors/s2/telemetry'));
  assert.deepEqual(seen, ['sensors/s2/telemetry'], 'the retained first reading was not stored for the dashboard');

  await waitFor('the refusals in the problem report', () =>
    ['broker_packets_refused', 'broker_logins_refused', 'broker_subscriptions_refused'].every((r) =>
      warnings.some((w) => w.includes(r)),
    ),
  );
  assert.ok(
    warnings.some((w) => w.includes('broker_logins_refused') && w.includes('anonymous-sensor')),
    warnings.join('\n'),
  );
});

test('an MQTT 5 client is refused by the aedes brokers (gateway mqtt-broker source, cloud embedded broker), counted, and told what to do in the log', {
  timeout: 60_000,
}, async (t) => {
  const port = await freePort();
  const warnings: string[] = [];
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'gw-v5',
      sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port }],
      uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
      stateDir: join(scratchDir('gateway-v5'), 'agent'),
      reportIntervalMs: 200,
    }),
    log: recordWarnings(warnings),
  });
  t.after(() => agent.stop(500));
  await agent.start();
  // aedes answers CONNACK 1, "unacceptable protocol version" (mosquitto_pub -V mqttv5 says "Unsupported Protocol Version").
  await assert.rejects(
    mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'v5-sensor', protocolVersion: 5, reconnectPeriod: 0 }),
    /Unacceptable protocol version/i,
  );
  assert.equal(agent.counters.get('broker_protocol_refused'), 1);
  await waitFor('the refusal in the problem report', () =>
    warnings.some(
      (w) =>
        w.includes('broker_protocol_refused') &&
        w.includes('\\"v5-sensor\\" spoke MQTT 5') &&
        w.includes('use a source of type mosquitto'),
    ),
  );
  const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'v311-sensor',
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  await sensor.endAsync();
  assert.equal(agent.counters.get('broker_protocol_refused'), 1, 'MQTT 3.1.1 is welcome');

  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const cloudWarnings: string[] = [];
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      influx: { url: influxd.url, database: 'v5' },
      stateDir: join(scratchDir('cloud-v5'), 'cloud'),
    }),
    log: recordWarnings(cloudWarnings),
  });
  await cloud.start();
  t.after(() => cloud.stop());
  await assert.rejects(
    mqtt.connectAsync(cloud.brokerUrl, { clientId: 'tributary-agent-gw-v5', protocolVersion: 5, reconnectPeriod: 0 }),
    /Unacceptable protocol version/i,
  );
  assert.equal(cloud.counters.get('mqtt_protocol_refused'), 1);
  assert.ok(
    cloudWarnings.some((w) => w.includes('uplink.protocolVersion') && w.includes('tributary-agent-gw-v5')),
    cloudWarnings.join('\n'),
  );
});
