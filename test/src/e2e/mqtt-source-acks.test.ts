import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import {
  agentCounterHelp,
  FilterChains,
  IngestPipeline,
  MqttSource,
  WindowEngine,
  type AgentCounter,
} from '@tributary/edge-agent';
import { MqttSourceConfig } from '@tributary/firmware-schemas';
import { Counters, ProblemReport, silentLogger, systemClock } from '@tributary/runtime';
import mqtt from 'mqtt';
import { startMosquitto } from '../harness/mosquitto.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait.js';
import { recordWarnings } from '../harness/warnings.js';

const MESSAGES = 3_000;

/** One MQTT control packet as it crossed the wire: its type (high nibble of the first byte) and body. */
interface Packet {
  readonly type: number;
  readonly qos: number;
  readonly body: Buffer;
}

/** Splits a recorded byte stream into MQTT packets (fixed header: type byte, 1-4 length bytes). */
function packetsOf(bytes: Buffer): Packet[] {
  const out: Packet[] = [];
  let at = 0;
  while (at < bytes.length) {
    let length = 0;
    let i = at + 1;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++]!;
      length += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    out.push({ type: bytes[at]! >> 4, qos: (bytes[at]! >> 1) & 3, body: bytes.subarray(i, i + length) });
    at = i + length;
  }
  return out;
}

/** The message ids of the QoS 1 PUBLISH packets in `packets` (topic length, topic, then the id). */
const publishIds = (packets: Packet[]): number[] =>
  packets.filter((p) => p.type === 3 && p.qos === 1).map((p) => p.body.readUInt16BE(2 + p.body.readUInt16BE(0)));
const pubackIds = (packets: Packet[]): number[] =>
  packets.filter((p) => p.type === 4).map((p) => p.body.readUInt16BE(0));

/** A loopback TCP relay to the broker that records what each side sent. */
async function recordingRelay(to: URL): Promise<{
  url: string;
  fromClient: Buffer[];
  fromBroker: Buffer[];
  /** Connections to the broker it relays that the broker has not closed yet. */
  open(): number;
  close(): Promise<void>;
}> {
  const fromClient: Buffer[] = [];
  const fromBroker: Buffer[] = [];
  const sockets = new Set<Socket>();
  const upstream = new Set<Socket>();
  const server: Server = createServer((client) => {
    const broker = createConnection({ host: to.hostname, port: Number(to.port) });
    upstream.add(broker);
    broker.on('close', () => upstream.delete(broker));
    for (const s of [client, broker]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    client.on('data', (d) => fromClient.push(d));
    broker.on('data', (d) => fromBroker.push(d));
    // When one side closes, the other is ended, not destroyed: destroying the broker's socket as
    // soon as the client's closed threw away what was still buffered for the broker (the last
    // PUBACKs and the DISCONNECT), and Mosquitto then re-delivered those messages to the next
    // session (seen under load: 658 of 6,000).
    client.pipe(broker).on('close', () => client.end());
    broker.pipe(client).on('close', () => broker.end());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    fromClient,
    fromBroker,
    open: () => upstream.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The agent's ingest, calling `after` once a message is handled (in the same turn, as the agent would). */
class ObservedPipeline extends IngestPipeline {
  after: (() => void) | undefined;

  override ingestJson(payload: string | Uint8Array, maxBytes: number, source: string): void {
    super.ingestJson(payload, maxBytes, source);
    this.after?.();
  }
}

function pipeline(): { pipeline: ObservedPipeline; counters: Counters<AgentCounter> } {
  const counters = new Counters<AgentCounter>(agentCounterHelp);
  const windows = new WindowEngine(
    {
      lengthMs: 60_000,
      slideMs: 60_000,
      allowedLatenessMs: 5_000,
      idleAfterMs: 65_000,
      maxSeries: 1_000,
      onSeriesLimit: 'reject-new',
      lateReadings: 'drop',
      lateHorizonMs: 0,
      maxPanesPerSeries: 8,
      sketchK: 16,
    },
    { window: () => undefined, evicted: () => undefined, outOfRangeOnly: () => undefined },
  );
  return {
    counters,
    pipeline: new ObservedPipeline({
      filters: new FilterChains({}),
      windows,
      clock: systemClock,
      maxFutureMs: 60_000,
      counters,
      problems: new ProblemReport(),
    }),
  };
}

async function publish(url: string, from: number, count: number): Promise<void> {
  const publisher = await mqtt.connectAsync(url, { clean: true });
  const sent: Promise<unknown>[] = [];
  for (let i = from; i < from + count; i++) {
    sent.push(
      publisher.publishAsync(
        `sensors/d${i % 50}/telemetry`,
        JSON.stringify({ device: `d${i % 50}`, ts: Date.now(), seq: i, values: { t: 20 } }),
        { qos: 1 },
      ),
    );
  }
  await Promise.all(sent);
  await publisher.endAsync();
}

test('the MQTT source acks every QoS 1 message once, in the order received, and none is left unacked when it stops', {
  timeout: 60_000,
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const relay = await recordingRelay(new URL(broker.url));
  t.after(() => relay.close());
  const { pipeline: core, counters } = pipeline();
  const config = MqttSourceConfig.parse({ type: 'mqtt', url: relay.url, qos: 1, session: 'persistent' });

  // A backlog queued while the agent was away, drained at connect (Mosquitto lets only 100
  // messages be in flight unacked, so the drain itself needs the acks to flow), then live
  // messages; the source stops while handling the last one.
  const first = new MqttSource(config, core, silentLogger, 'acks-agent');
  await first.start();
  await first.ready();
  await first.stop();
  await publish(broker.url, 0, MESSAGES);
  const source = new MqttSource(config, core, silentLogger, 'acks-agent');
  await source.start();
  await source.ready();
  await waitFor('the backlog to drain', () => counters.get('messages_received') >= MESSAGES, 30_000, 5);
  // Stopped in the same turn as the last message is handled (once mqtt.js has asked for its
  // ack, as a signal or a request handled in that turn would), before any end-of-turn write.
  let stopped: Promise<void> | undefined;
  core.after = () => {
    if (counters.get('messages_received') === 2 * MESSAGES) queueMicrotask(() => (stopped ??= source.stop()));
  };
  await publish(broker.url, MESSAGES, MESSAGES);
  await waitFor('the live messages and the stop', () => stopped !== undefined, 30_000, 5);
  await stopped;
  core.after = undefined;
  assert.equal(counters.get('messages_received'), 2 * MESSAGES);
  assert.equal(counters.get('readings_accepted'), 2 * MESSAGES);

  const received = publishIds(packetsOf(Buffer.concat(relay.fromBroker)));
  const sentPackets = packetsOf(Buffer.concat(relay.fromClient));
  assert.equal(received.length, 2 * MESSAGES, 'every message came through the relay once');
  assert.deepEqual(pubackIds(sentPackets), received, 'one PUBACK per message, in the order the messages came');
  assert.equal(sentPackets.at(-1)?.type, 14, 'the DISCONNECT is the last packet, after every PUBACK');

  // Nothing left for the session: a reconnect with the same client id gets no redelivery. MQTT
  // 3.1.1 does not answer a DISCONNECT, so wait until Mosquitto has read it and closed the
  // connection: a new connection with the same client id takes the session over at once, and
  // what the old one still held unread (its last PUBACKs) would be thrown away with it.
  await waitFor('Mosquitto to close the stopped session', () => relay.open() === 0, 10_000, 5);
  const again = new MqttSource(config, core, silentLogger, 'acks-agent');
  await again.start();
  await again.ready();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await again.stop();
  assert.equal(counters.get('messages_received'), 2 * MESSAGES, 'no message was redelivered after the stop');
});

test('the MQTT source warns when its broker goes away, and not when it is stopped', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const config = MqttSourceConfig.parse({ type: 'mqtt', url: broker.url });
  const warnings: string[] = [];
  const source = new MqttSource(config, pipeline().pipeline, recordWarnings(warnings), 'stop-agent');
  await source.start();
  await source.ready();
  await source.stop();
  assert.deepEqual([...warnings], [], 'a clean stop is not a lost connection');

  const lost = new MqttSource(config, pipeline().pipeline, recordWarnings(warnings), 'lost-agent');
  await lost.start();
  await lost.ready();
  await broker.kill();
  await waitFor('the lost connection to be reported', () =>
    warnings.some((w) => w.startsWith('telemetry broker connection lost')),
  );
  await lost.stop();
});
