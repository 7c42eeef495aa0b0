import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import mqtt from 'mqtt';
import { startInfluxd } from '../harness/influxd.js';
import {
  rawConnection,
  residentBytes,
  sendPartialConnect,
  unreadBytes,
  type RawConnection,
} from '../harness/mqtt-raw.js';
import { freePort } from '../harness/ports.js';
import { NodeService } from '../harness/processes.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { recordWarnings } from '../harness/warnings.js';

const MiB = 1024 * 1024;
const agentLogin = { username: 'gw-1', password: 'password-of-gw-1' };
const sensorLogin = { username: 'sensor', password: 'sensor-secret' };

/** `count` raw connections to 127.0.0.1:port, destroyed after the test. */
async function connections(t: test.TestContext, port: number, count: number): Promise<RawConnection[]> {
  const conns = await Promise.all(Array.from({ length: count }, () => rawConnection(port)));
  t.after(() => conns.forEach((c) => c.socket.destroy()));
  return conns;
}

/**
 * The attack of issue 17: 300 clients each send most of a CONNECT that declares a size under the
 * broker's packet limit and never finish it. Resolves with how much the broker's resident memory
 * grew once every byte was either taken off the sockets or refused.
 */
async function partialConnectFlood(
  t: test.TestContext,
  port: number,
  pid: number,
  declaredBytes: number,
  sentBytes: number,
): Promise<{ conns: RawConnection[]; grownBytes: number }> {
  const before = await residentBytes(pid);
  const conns = await connections(t, port, 300);
  const body = Buffer.alloc(sentBytes, 0x61); // one buffer, written 300 times: the test process copies nothing
  await Promise.all(conns.map((c) => sendPartialConnect(c, declaredBytes, body)));
  await waitFor('the broker to read or refuse every byte sent', async () => (await unreadBytes(port)) === 0, 30_000);
  return { conns, grownBytes: (await residentBytes(pid)) - before };
}

/** A real agent, logged in as gw-1, sends 120 readings and has every batch acked. */
async function agentDelivers(brokerUrl: string, dir: string): Promise<void> {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
  writeFileSync(
    join(dir, 'readings.jsonl'),
    Array.from({ length: 120 }, (_, i) =>
      JSON.stringify({ device: 'd1', ts: t0 + i * 1_000, values: { temperature: 20 } }),
    ).join('\n'),
  );
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'gw-1',
      sources: [{ type: 'file', path: join(dir, 'readings.jsonl') }],
      batch: { maxDelayMs: 100 },
      uplink: {
        type: 'mqtt',
        url: brokerUrl,
        ...agentLogin,
        ackTimeoutMs: 5_000,
        backoff: { initialMs: 100, maxMs: 1_000 },
      },
    }),
    stateDir: join(dir, 'agent'),
    log: silentLogger,
  });
  await agent.start();
  await waitFor('the agent to read its readings', () => agent.counters.get('readings_accepted') === 120);
  assert.deepEqual(await agent.stop(), { drained: true }, 'the cloud acked every batch of the legitimate agent');
}

test("the cloud's embedded broker: 300 clients sending 7.75 MiB of an 8 MiB CONNECT are closed at the header, memory stays flat, each is counted and logged, an agent still delivers", {
  timeout: 120_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const dir = scratchDir('preauth-cloud');
  const port = await freePort();
  const cloud = await NodeService.cloud(dir, {
    broker: { type: 'embedded', host: '127.0.0.1', port, users: [{ role: 'agent', ...agentLogin }] },
    influx: { url: influxd.url, database: 'preauth' },
    stateDir: join(dir, 'cloud'),
  });
  t.after(() => cloud.stop());

  // 8 MiB is under the packet limit (maxBatchBytes 8 MiB + 64 KiB) that applies after login too.
  const { conns, grownBytes } = await partialConnectFlood(t, port, cloud.pid!, 8 * MiB, 7.75 * MiB);
  t.diagnostic(`the broker's resident memory grew by ${(grownBytes / MiB).toFixed(1)} MiB`);
  assert.ok(
    grownBytes < 64 * MiB,
    `the broker's resident memory grew by ${(grownBytes / MiB).toFixed(0)} MiB for 300 × 7.75 MiB of unfinished CONNECTs`,
  );
  await waitFor('the broker to close every connection', () => conns.every((c) => c.isClosed()), 5_000);
  assert.equal(await cloud.metric('tributary_cloud_mqtt_connects_refused_total'), 300);
  const lines = cloud.output.split('\n').filter((l) => l.includes('closed before login'));
  assert.equal(lines.length, 1, `one log line for the lot (once per interval):\n${cloud.output}`);
  assert.match(lines[0]!, /"peer":"127\.0\.0\.1:\d+".*CONNECT of \d+ bytes, over the limit of 8192 before login/);

  await agentDelivers(`mqtt://127.0.0.1:${port}`, dir);
});

test("the gateway's mqtt-broker source: 300 clients sending most of a 1 MiB CONNECT are closed at the header and counted; a sensor still delivers", {
  timeout: 120_000,
}, async (t) => {
  const dir = scratchDir('preauth-gateway');
  const port = await freePort();
  const agent = await NodeService.agent(dir, {
    agentId: 'gw-preauth',
    // maxPayloadBytes 1 MiB: packets up to 1 MiB + 64 KiB are fine once logged in.
    sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port, maxPayloadBytes: MiB, users: [sensorLogin] }],
    uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
    stateDir: join(dir, 'agent'),
    reportIntervalMs: 200,
  });
  t.after(() => agent.stop(5_000));

  const { conns, grownBytes } = await partialConnectFlood(t, port, agent.pid!, MiB, MiB - 64);
  t.diagnostic(`the agent's resident memory grew by ${(grownBytes / MiB).toFixed(1)} MiB`);
  assert.ok(
    grownBytes < 64 * MiB,
    `the agent's resident memory grew by ${(grownBytes / MiB).toFixed(0)} MiB for 300 × 1 MiB of unfinished CONNECTs`,
  );
  await waitFor('the broker to close every connection', () => conns.every((c) => c.isClosed()), 5_000);
  assert.equal(await agent.metric('tributary_agent_broker_connects_refused_total'), 300);
  await waitFor('the refusal in the problem report, with who it was', () =>
    agent.output
      .split('\n')
      .some(
        (l) =>
          l.includes('broker_connects_refused') &&
          /127\.0\.0\.1:\d+: CONNECT of \d+ bytes, over the limit of 8192 before login/.test(l),
      ),
  );

  const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...sensorLogin, reconnectPeriod: 0 });
  t.after(() => sensor.endAsync());
  await sensor.publishAsync(
    'sensors/s1/telemetry',
    JSON.stringify({ device: 's1', ts: Date.now(), values: { temperature: 21 } }),
    { qos: 1 },
  );
  await waitFor(
    'the sensor reading',
    async () => (await agent.metric('tributary_agent_readings_accepted_total')) === 1,
  );
});

/** A broker under test, started in this process with small limits before login. */
interface Broker {
  readonly port: number;
  counter(name: 'connects' | 'budget' | 'timeouts'): number;
  /** A legitimate client that logs in still gets through. */
  delivers(): Promise<void>;
}

const unauthenticated = { maxConnectBytes: 8192, maxBufferedBytes: 64 * 1024, connectTimeoutMs: 3_000 };

const brokers: Record<string, (t: test.TestContext) => Promise<Broker>> = {
  "the cloud's embedded broker": async (t) => {
    const influxd = await startInfluxd();
    t.after(() => influxd.stop());
    const dir = scratchDir('preauth-budget-cloud');
    const cloud = new CloudProcessor({
      config: ProcessorConfigSchema.parse({
        broker: {
          type: 'embedded',
          host: '127.0.0.1',
          port: 0,
          users: [{ role: 'agent', ...agentLogin }],
          unauthenticated,
        },
        influx: { url: influxd.url, database: 'budget' },
        stateDir: join(dir, 'cloud'),
      }),
      log: recordWarnings([]),
    });
    await cloud.start();
    t.after(() => cloud.stop());
    const names = {
      connects: 'mqtt_connects_refused',
      budget: 'mqtt_unauthenticated_over_budget',
      timeouts: 'mqtt_connect_timeouts',
    } as const;
    return {
      port: Number(new URL(cloud.brokerUrl).port),
      counter: (n) => cloud.counters.get(names[n]),
      delivers: () => agentDelivers(cloud.brokerUrl, dir),
    };
  },
  "the gateway's mqtt-broker source": async (t) => {
    const dir = scratchDir('preauth-budget-gateway');
    const port = await freePort();
    const agent = new EdgeAgent({
      config: AgentConfigSchema.parse({
        agentId: 'gw-budget',
        sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port, users: [sensorLogin], unauthenticated }],
        uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
      }),
      stateDir: join(dir, 'agent'),
      log: silentLogger,
    });
    await agent.start();
    t.after(() => agent.stop(500));
    const names = {
      connects: 'broker_connects_refused',
      budget: 'broker_unauthenticated_over_budget',
      timeouts: 'broker_connect_timeouts',
    } as const;
    return {
      port,
      counter: (n) => agent.counters.get(names[n]),
      delivers: async () => {
        const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...sensorLogin, reconnectPeriod: 0 });
        await sensor.publishAsync(
          'sensors/s1/telemetry',
          JSON.stringify({ device: 's1', ts: Date.now(), values: { temperature: 21 } }),
          { qos: 1 },
        );
        await sensor.endAsync();
        await waitFor('the sensor reading', () => agent.counters.get('readings_accepted') === 1);
      },
    };
  },
};

for (const [name, start] of Object.entries(brokers)) {
  test(`${name}: bytes held by clients not logged in stay within maxBufferedBytes, and a CONNECT not finished within connectTimeoutMs is cut off`, {
    timeout: 60_000,
  }, async (t) => {
    const broker = await start(t);
    // 20 clients each send 7,000 bytes of an 8,000-byte CONNECT (each under maxConnectBytes): 64 KiB
    // holds 9 of them; the others are closed as their bytes arrive.
    const conns = await connections(t, broker.port, 20);
    for (const c of conns) await sendPartialConnect(c, 8_000, Buffer.alloc(7_000, 0x61));
    const silent = await connections(t, broker.port, 1); // connects and says nothing
    await waitFor('the broker to read or refuse every byte sent', async () => (await unreadBytes(broker.port)) === 0);
    const overBudget = broker.counter('budget');
    assert.ok(overBudget >= 11, `${overBudget} of 20 closed for the budget`);
    await waitFor(
      'the connections over the budget to be closed',
      () => conns.filter((c) => c.isClosed()).length === overBudget,
    );

    await waitFor(
      'the rest to be cut off at the deadline',
      () => [...conns, ...silent].every((c) => c.isClosed()),
      10_000,
    );
    assert.equal(broker.counter('timeouts'), 20 - overBudget + 1);
    assert.equal(broker.counter('connects'), 0, 'no CONNECT was over maxConnectBytes');
    await broker.delivers();
  });
}
