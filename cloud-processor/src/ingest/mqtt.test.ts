import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { topics, UnauthenticatedLimitsConfig, type Ack } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../broker/embedded.js';
import { ForeignAgentError, Intake, Pipelined, type BatchHandler } from './intake.js';
import { MqttIngest } from './mqtt.js';
import { MqttSession } from './mqtt-session.js';

/**
 * How the ingest reaches the broker: `local`, the embedded broker's subscription inside the
 * process (the default deployment); `mqtt`, an MQTT client over TCP (as to an external broker).
 */
const sessions = ['local', 'mqtt'] as const;
type SessionKind = (typeof sessions)[number];

/** A real aedes broker, the embedded one or one as anyone runs it, and the ingest's session there. */
async function brokerOf(t: TestContext, kind: SessionKind, presence: boolean) {
  if (kind === 'local') {
    const broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      maxClients: 100,
      maxPacketBytes: 1 << 20,
      unauthenticated: UnauthenticatedLimitsConfig.parse({}),
      refused: () => undefined,
      log: silentLogger,
    });
    t.after(() => broker.close());
    return { url: broker.url, session: broker.session(presence) };
  }
  const broker = await Aedes.createBroker();
  const server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    session: new MqttSession({ url, clientId: 'tributary-cloud', startTimeoutMs: 5_000, presence }, silentLogger),
  };
}

/** The processor's ingest with a backlog of one batch in front of `handle`, and an agent client. */
async function rig(
  t: TestContext,
  handle: BatchHandler,
  maxStallMs: number,
  kind: SessionKind,
  onPresence?: (agent: string, online: boolean) => void,
) {
  const { url, session } = await brokerOf(t, kind, onPresence !== undefined);
  const intake = new Intake(1, 1 << 20, handle);
  t.after(() => intake.stop(new Error('test over')));
  const ingest = new MqttIngest(session, { maxStallMs, onPresence }, intake, silentLogger, () => undefined);
  const agent = await mqtt.connectAsync(url, { clientId: 'tributary-agent-gw' });
  t.after(() => agent.endAsync());
  // The agent's presence, retained, from before the ingest subscribes.
  await agent.publishAsync(topics.status('gw'), '{"online":true}', { qos: 1, retain: true });
  await ingest.start();
  t.after(() => ingest.stop());
  return { intake, ingest, agent };
}

/** Polls `ready` every 10 ms until it holds or `ms` pass; true when it held. */
async function until(ready: () => boolean, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return ready();
}

for (const kind of sessions) {
  test(`${kind}: a backlog full for longer than maxStallMs: batches are read and left unacked, not held in the broker`, {
    timeout: 30_000,
  }, async (t) => {
    // A writer that never finishes (InfluxDB down): one batch being handled, one waiting, then full.
    const { intake, ingest, agent } = await rig(t, () => new Promise(() => undefined), 300, kind);
    for (let seq = 0; seq < 20; seq++) await agent.publishAsync(topics.batches('gw'), `{"seq":${seq}}`, { qos: 1 });
    const deadline = Date.now() + 5_000;
    while (ingest.shed < 18 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(ingest.shed, 18, 'all but the batch being written and the one in the backlog were read and shed');
    assert.equal(intake.backlog, 2);
  });

  test(`${kind}: a backlog that is full but keeps taking batches in (a busy, working writer) sheds nothing`, {
    timeout: 30_000,
  }, async (t) => {
    // Each batch takes 20 ms to write, one at a time: the backlog of one is full all along.
    const { intake, ingest, agent } = await rig(
      t,
      () => new Promise((r) => setTimeout(() => r(undefined), 20)),
      100,
      kind,
    );
    // 40 batches take about 800 ms to write, far longer than maxStallMs.
    await Promise.all(
      Array.from({ length: 40 }, (_, seq) => agent.publishAsync(topics.batches('gw'), `{"seq":${seq}}`, { qos: 1 })),
    );
    const deadline = Date.now() + 5_000;
    while (intake.backlog > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(intake.backlog, 0, 'every batch was handled');
    assert.equal(ingest.shed, 0);
  });

  test(`${kind}: a batch naming another agent than its topic’s is answered as rejected on the topic’s acks`, {
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
      kind,
    );
    await agent.subscribeAsync(topics.acks('gw'), { qos: 1 });
    const answer = new Promise<string>((resolve) =>
      agent.once('message', (_topic, payload) => resolve(payload.toString())),
    );
    await agent.publishAsync(topics.batches('gw'), '{"agent":"other","seq":7}', { qos: 1 });
    assert.deepEqual(JSON.parse(await answer), rejected);
  });

  test(`${kind}: the broker and the ingest write packets without building mqtt-packet’s table of 65,536 numbers (7 MB of heap)`, {
    timeout: 30_000,
  }, async (t) => {
    const acked = new Pipelined(Promise.resolve(), Promise.resolve({ v: 1, agent: 'gw', seq: 1, status: 'ok' } as Ack));
    const { agent } = await rig(t, () => acked, 1_000, kind);
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
    for (const user of ['aedes', 'mqtt'])
      copies.add(createRequire(here.resolve(user)).resolve('mqtt-packet/numbers.js'));
    for (const path of copies) {
      const numbers = here(path) as { cache: Record<number, Buffer> };
      assert.equal(Object.keys(numbers.cache).length, 0, `${path} cached numbers`);
    }
  });

  test(`${kind}: an agent's presence retained before the ingest subscribed reaches it`, {
    timeout: 30_000,
  }, async (t) => {
    const presence = new Map<string, boolean>();
    await rig(
      t,
      () => Promise.resolve(undefined),
      1_000,
      kind,
      (agent, online) => presence.set(agent, online),
    );
    assert.ok(await until(() => presence.get('gw') === true), 'gw is online');
  });
}

test('local: a slow intake holds the agent back: its next publish is not read until the intake has room, and none is lost', {
  timeout: 30_000,
}, async (t) => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const seen: number[] = [];
  const { ingest, agent } = await rig(
    t,
    async (payload) => {
      seen.push((JSON.parse(Buffer.from(payload).toString()) as { seq: number }).seq);
      await gate; // a writer that does not finish until the gate opens
      return undefined;
    },
    60_000,
    'local',
  );
  // Small batches: buffers between broker and ingest (an in-process MQTT connection's 16 KiB) would take dozens.
  const batches = 100;
  let taken = 0;
  const sending = (async () => {
    for (let seq = 0; seq < batches; seq++) {
      await agent.publishAsync(topics.batches('gw'), JSON.stringify({ seq, pad: 'x'.repeat(1_000) }), { qos: 1 });
      taken++;
    }
  })();
  assert.ok(await until(() => taken >= 2), 'the batch being written and the one in the backlog were taken');
  // aedes acknowledges a QoS 1 publish before delivering it, then reads nothing more from its
  // publisher until the delivery is done: the third (waiting for room) is acknowledged, no more.
  assert.equal(await until(() => taken > 3, 1_000), false, `${taken} publishes taken while the intake had no room`);
  open();
  await sending;
  assert.ok(await until(() => seen.length === batches));
  assert.deepEqual(
    seen,
    Array.from({ length: batches }, (_, seq) => seq),
    'every batch reached the intake, in order',
  );
  assert.equal(ingest.shed, 0);
});
