import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import mqtt from 'mqtt';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import {
  connectPacket,
  rawConnection,
  sendPartialConnect,
  tlsConnection,
  type RawConnection,
} from '../harness/mqtt-raw.js';
import { TestPki, type Issued } from '../harness/pki.js';
import { freePort } from '../harness/ports.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { recordWarnings } from '../harness/warnings.js';

const unauthenticated = { maxConnectBytes: 8192, maxBufferedBytes: 64 * 1024, connectTimeoutMs: 3_000 };
const pem = (path: string): Buffer => readFileSync(path);
const clientTls = (pki: TestPki, cert?: Issued): mqtt.IClientOptions => ({
  ca: pem(pki.ca),
  ...(cert && { cert: pem(cert.cert), key: pem(cert.key) }),
});

/** How an MQTTS connection attempt ended: `connected`, or how it was refused (closed, or the error). */
async function attempt(url: string, options: mqtt.IClientOptions): Promise<string> {
  const client = mqtt.connect(url, { ...options, reconnectPeriod: 0, connectTimeout: 5_000 });
  try {
    return await new Promise<string>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('error', (err) => resolve(err.message));
      client.once('close', () => resolve('closed'));
    });
  } finally {
    await client.endAsync(true);
  }
}

/** A TLS broker under test, with client certificates required, started in this process. */
interface TlsBroker {
  readonly url: string;
  readonly port: number;
  readonly pki: TestPki;
  readonly warnings: string[];
  counter(name: 'tls' | 'timeouts' | 'budget' | 'logins'): number;
  /**
   * Waits for the log lines of `refusals` TLS refusals: the cloud's broker logs the first of each
   * kind at once and only counts the others for 10 s; the gateway reports them once per interval
   * with their count. Returns the lines.
   */
  tlsLogged(refusals: number): Promise<string[]>;
  /** A client with its own certificate (and no password) delivers. */
  delivers(): Promise<void>;
}

const brokers: Record<string, (t: test.TestContext) => Promise<TlsBroker>> = {
  "the cloud's embedded broker": async (t) => {
    const pki = TestPki.create();
    const server = pki.issue('localhost', { server: true });
    const influxd = await startInfluxd();
    t.after(() => influxd.stop());
    const dir = scratchDir('tls-cloud');
    const warnings: string[] = [];
    const cloud = new CloudProcessor({
      config: ProcessorConfigSchema.parse({
        broker: {
          type: 'embedded',
          host: '127.0.0.1',
          port: 0,
          unauthenticated,
          tls: { ...server, clientCertificates: 'required', ca: pki.ca },
        },
        influx: { url: influxd.url, database: 'tls' },
        stateDir: join(dir, 'cloud'),
      }),
      log: recordWarnings(warnings),
    });
    await cloud.start();
    t.after(() => cloud.stop());
    const names = {
      tls: 'mqtt_tls_refused',
      timeouts: 'mqtt_connect_timeouts',
      budget: 'mqtt_unauthenticated_over_budget',
      logins: 'mqtt_logins_refused',
    } as const;
    return {
      url: cloud.brokerUrl,
      port: Number(new URL(cloud.brokerUrl).port),
      pki,
      warnings,
      counter: (n) => cloud.counters.get(names[n]),
      tlsLogged: async () => {
        const lines = warnings.filter((w) => w.startsWith('MQTTS connection refused'));
        assert.equal(lines.length, 1, `one line for the lot, in 10 s:\n${warnings.join('\n')}`);
        return lines;
      },
      delivers: async () => {
        const readings = 240;
        const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
        writeFileSync(
          join(dir, 'readings.jsonl'),
          Array.from({ length: readings }, (_, i) =>
            JSON.stringify({ device: `d${i % 4}`, ts: t0 + i * 1_000, values: { temperature: 20 } }),
          ).join('\n'),
        );
        const cert = pki.issue('gw-a');
        const agent = new EdgeAgent({
          config: AgentConfigSchema.parse({
            agentId: 'gw-a',
            sources: [{ type: 'file', path: join(dir, 'readings.jsonl') }],
            batch: { maxDelayMs: 100 },
            uplink: {
              type: 'mqtt',
              url: cloud.brokerUrl,
              tls: { ca: pki.ca, ...cert },
              ackTimeoutMs: 5_000,
              backoff: { initialMs: 100, maxMs: 1_000 },
            },
          }),
          stateDir: join(dir, 'agent'),
          log: silentLogger,
        });
        await agent.start();
        await waitFor('the agent to read its readings', () => agent.counters.get('readings_accepted') === readings);
        assert.deepEqual(
          await agent.stop(),
          { drained: true },
          'the cloud acked every batch of the agent with its certificate',
        );
        const rows = await influxQuery(
          influxd.url,
          'tls',
          'SELECT sum("count") FROM "temperature" WHERE "agent" = \'gw-a\'',
        );
        assert.equal(rows[0]?.values[0]?.[1], readings, 'Σ count in InfluxDB equals the readings the agent accepted');
      },
    };
  },
  "the gateway's mqtt-broker source": async (t) => {
    const pki = TestPki.create();
    const server = pki.issue('localhost', { server: true });
    const dir = scratchDir('tls-gateway');
    const port = await freePort();
    const warnings: string[] = [];
    const agent = new EdgeAgent({
      config: AgentConfigSchema.parse({
        agentId: 'gw-tls',
        sources: [
          {
            type: 'mqtt-broker',
            host: '127.0.0.1',
            port,
            unauthenticated,
            tls: { ...server, clientCertificates: 'required', ca: pki.ca },
          },
        ],
        uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
        reportIntervalMs: 200,
      }),
      stateDir: join(dir, 'agent'),
      log: recordWarnings(warnings),
    });
    await agent.start();
    t.after(() => agent.stop(500));
    const names = {
      tls: 'broker_tls_refused',
      timeouts: 'broker_connect_timeouts',
      budget: 'broker_unauthenticated_over_budget',
      logins: 'broker_logins_refused',
    } as const;
    return {
      url: `mqtts://127.0.0.1:${port}`,
      port,
      pki,
      warnings,
      counter: (n) => agent.counters.get(names[n]),
      tlsLogged: async (refusals) => {
        const lines = (): string[] => warnings.filter((w) => w.includes('"reason":"broker_tls_refused"'));
        const reported = (): number => lines().reduce((n, l) => n + Number(/"count":(\d+)/.exec(l)?.[1] ?? 0), 0);
        await waitFor(`${refusals} TLS refusals in the problem report`, () => reported() === refusals);
        return lines();
      },
      delivers: async () => {
        const sensor = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
          ...clientTls(pki, pki.issue('s1')),
          reconnectPeriod: 0,
        });
        for (let i = 0; i < 50; i++)
          await sensor.publishAsync(
            'sensors/s1/telemetry',
            JSON.stringify({ device: 's1', ts: Date.now(), seq: i, values: { temperature: 21 } }),
            { qos: 1 },
          );
        await sensor.endAsync();
        await waitFor('the sensor’s 50 readings', () => agent.counters.get('readings_accepted') === 50);
      },
    };
  },
};

for (const [name, start] of Object.entries(brokers)) {
  test(`${name} on TLS with client certificates required: no certificate, an expired one, another CA's, and plain MQTT are refused, counted and logged once with the peer; a certified client delivers`, {
    timeout: 60_000,
  }, async (t) => {
    const broker = await start(t);
    const { pki, url } = broker;
    const other = TestPki.create('Another CA');
    const refusals = {
      'no certificate': await attempt(url, clientTls(pki)),
      'an expired certificate': await attempt(url, clientTls(pki, pki.issue('gw-a', { expired: true }))),
      "another CA's certificate": await attempt(url, clientTls(pki, other.issue('gw-a'))),
    };
    for (const [what, outcome] of Object.entries(refusals)) assert.notEqual(outcome, 'connected', `${what}: refused`);
    // A client speaking plain MQTT to the TLS port.
    const plain = await rawConnection(broker.port);
    plain.socket.write(connectPacket('plain-client'));
    await plain.closed;
    await waitFor('4 TLS refusals counted', () => broker.counter('tls') === 4);
    for (const line of await broker.tlsLogged(4))
      assert.match(line, /127\.0\.0\.1:\d+.*(certificate|TLS handshake)/, 'each log line names a peer and why');
    await broker.delivers();
  });

  test(`${name} on TLS: the limits before login still apply — a handshake never finished and slow CONNECTs over TLS hit the deadline and the budget`, {
    timeout: 60_000,
  }, async (t) => {
    const broker = await start(t);
    const { pki } = broker;
    // Half a ClientHello (a TLS record header announcing 512 bytes, and 100 of them), then nothing.
    const stalled = await rawConnection(broker.port);
    t.after(() => stalled.socket.destroy());
    stalled.socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.alloc(100, 1)]));
    // 20 certified clients each send 7,000 bytes of an 8,000-byte CONNECT over TLS: 64 KiB holds 9.
    const cert = pki.issue('slow-client');
    const conns: RawConnection[] = [];
    for (let i = 0; i < 20; i++)
      conns.push(await tlsConnection(broker.port, clientTls(pki, cert) as import('node:tls').ConnectionOptions));
    t.after(() => conns.forEach((c) => c.socket.destroy()));
    for (const c of conns) await sendPartialConnect(c, 8_000, Buffer.alloc(7_000, 0x61));
    // The bytes are read off the sockets, then decrypted: poll the counter, not the receive queues.
    await waitFor(
      'the connections over the budget to be closed as their bytes arrive',
      () => broker.counter('budget') >= 11,
      2_500,
    );
    await waitFor(
      'the rest, and the stalled handshake, to be cut off at the deadline',
      () => stalled.isClosed() && conns.every((c) => c.isClosed()),
      10_000,
    );
    const overBudget = broker.counter('budget');
    assert.ok(overBudget >= 11, `${overBudget} of 20 closed for the budget`);
    assert.equal(broker.counter('timeouts'), 20 - overBudget + 1);
    assert.equal(broker.counter('tls'), 0, 'no handshake failed: the stalled one timed out');
    await broker.delivers();
  });
}

test("the cloud's embedded broker: another agent's certificate cannot log in as, nor publish for, an agent", {
  timeout: 60_000,
}, async (t) => {
  const broker = await brokers["the cloud's embedded broker"]!(t);
  const { pki, url } = broker;
  const gwB = pki.issue('gw-b');
  assert.notEqual(
    await attempt(url, { ...clientTls(pki, gwB), clientId: 'tributary-agent-gw-a' }),
    'connected',
    "gw-b's certificate cannot take gw-a's client id",
  );
  assert.notEqual(
    await attempt(url, { ...clientTls(pki, gwB), clientId: 'tributary-agent-gw-b', username: 'gw-a' }),
    'connected',
    'nor name gw-a as its username',
  );
  assert.equal(broker.counter('logins'), 2);
  // As itself it connects, but publishing gw-a's batches closes its connection.
  const client = await mqtt.connectAsync(url, {
    ...clientTls(pki, gwB),
    clientId: 'tributary-agent-gw-b',
    reconnectPeriod: 0,
  });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.publish('tributary/v1/agents/gw-a/batches', '{}', { qos: 1 });
  await closed;
  await client.endAsync(true);
  assert.ok(
    broker.warnings.some((w) => w.startsWith('MQTT publish refused') && w.includes('gw-b')),
    broker.warnings.join('\n'),
  );
  await broker.delivers();
});
