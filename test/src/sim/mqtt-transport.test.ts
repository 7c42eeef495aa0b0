import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BehaviourConfig, decodeTelemetry, topics } from '@tributary/firmware-schemas';
import { Fleet, MqttTransport, SimClock, Simulator, type FleetOptions } from '@tributary/device-simulator';
import mqtt from 'mqtt';
import { startMosquitto } from '../harness/mosquitto.js';
import { waitFor } from '../harness/wait.js';

const HOUR = 3_600_000;

function options(devices: number, durationMs: number): FleetOptions {
  const startMs = Date.now() - durationMs;
  return {
    devices,
    seed: 'mqtt',
    startMs,
    durationMs,
    models: [
      {
        prefix: 'th',
        share: 1,
        format: 'json',
        clock: 'synced',
        sensors: [
          { kind: 'temperature', samplePeriodMs: 60_000 },
          { kind: 'humidity', samplePeriodMs: 60_000 },
        ],
      },
    ],
    behaviour: BehaviourConfig.parse({ malformedRate: 0.02, duplicateRate: 0.01 }),
    anomalies: { ratePerDay: 4, kinds: ['spike', 'dropout', 'out-of-range'], warmupMs: 0, gapMs: HOUR },
  };
}

const cases = [
  {
    name: '400 devices multiplexed over 3 connections, QoS 1',
    devices: 400,
    connections: 3 as const,
    qos: 1 as const,
    hours: 2,
  },
  {
    name: '25 devices with a connection each, QoS 0',
    devices: 25,
    connections: 'per-device' as const,
    qos: 0 as const,
    hours: 12,
  },
];

for (const c of cases) {
  test(`MQTT transport to a real Mosquitto: ${c.name}; every frame arrives as sent`, { timeout: 60_000 }, async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const received: Array<{ topic: string; payload: string }> = [];
    const sub = await mqtt.connectAsync(broker.url, { clientId: `sim-test-sub-${process.pid}` });
    t.after(() => sub.endAsync());
    sub.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await sub.subscribeAsync(topics.telemetryPattern, { qos: 1 });

    const fleet = new Fleet(options(c.devices, c.hours * HOUR));
    const transport = await MqttTransport.connect({
      url: broker.url,
      qos: c.qos,
      connections: c.connections,
      devices: fleet.devices.map((d) => d.id),
    });
    t.after(() => transport.close());
    assert.equal(transport.connections, c.connections === 'per-device' ? c.devices : c.connections);
    const stats = await new Simulator(
      fleet,
      new SimClock(fleet.options.startMs, (c.hours * HOUR) / 2000),
      transport,
    ).run();
    assert.ok(stats.malformed > 0 && stats.duplicates > 0);
    await waitFor(`all ${stats.messages} messages at the subscriber`, () => received.length >= stats.messages, 30_000);
    assert.equal(received.length, stats.messages);
    const decoded = received.map((m) => ({ m, r: decodeTelemetry(m.payload) }));
    const good = decoded.filter((d) => d.r.ok);
    assert.ok(
      good.every((d) => d.r.ok && d.m.topic === topics.telemetry(d.r.value.device)),
      'each on its device topic',
    );
    assert.equal(
      good.reduce((n, d) => n + (d.r.ok ? Object.keys(d.r.value.values).length : 0), 0),
      stats.readings,
    );
    // Each device's messages arrive in the order sent (one connection per device).
    const lastSeq = new Map<string, number>();
    for (const d of good) {
      if (!d.r.ok) continue;
      const prev = lastSeq.get(d.r.value.device) ?? -1;
      assert.ok(d.r.value.seq! >= prev, `${d.r.value.device} seq ${d.r.value.seq} after ${prev}`);
      lastSeq.set(d.r.value.device, d.r.value.seq!);
    }
  });
}
