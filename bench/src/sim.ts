#!/usr/bin/env node
/**
 * npm run bench:sim [-- --devices 10000 --seconds 15 --connections 4 --qos 0]
 *
 * How many readings per second the device simulator publishes to a local Mosquitto, beside a bare
 * mqtt.js publisher on the same broker in the same run (the machine is shared and noisy, so only
 * figures from one run are comparable):
 *   1. reference: bare mqtt.js, the simulator's payloads and topics, as fast as it goes;
 *   2. target: the fleet in real time, every device at 10 readings/s (2 sensors at 5 Hz, one
 *      message per tick) — does it keep up, and how far behind the clock does it fall?
 *   3. ceiling: the same fleet accelerated, as fast as it goes.
 * Ends with one line of JSON (units in the key names).
 */
import { Fleet, MqttTransport, SimClock, Simulator, type Frame } from '@tributary/device-simulator';
import mqtt from 'mqtt';
import { parseCommandLine } from '@tributary/runtime';
import { startMosquitto } from '@tributary/test/harness/mosquitto.js';

const USAGE = `usage: npm run bench:sim [-- OPTIONS]

Readings/s the device simulator publishes to a local Mosquitto, beside a bare mqtt.js publisher
of the same payloads: the fleet in real time (does it keep up?), then accelerated. Ends with one
line of JSON (docs/benchmarks.md).

      --devices N       devices of the fleet, each at 10 readings/s (10000)
      --seconds N       seconds of each run (15)
      --connections N   MQTT connections (4)
      --qos 0|1         QoS of the publishes (0)
  -h, --help            prints this and exits
`;

const { values } = parseCommandLine('bench:sim', USAGE, {
  options: {
    devices: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '4' },
    qos: { type: 'string', default: '0' },
  },
});
const devices = Number(values.devices);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const qos = values.qos === '1' ? 1 : 0;
const PERIOD_MS = 200;
const SENSORS = 2;
const targetReadingsPerS = (devices * SENSORS * 1000) / PERIOD_MS;
const say = (line: string): boolean => process.stderr.write(`${line}\n`);

function fleet(startMs: number, durationMs: number): Fleet {
  return new Fleet({
    devices,
    seed: 1,
    startMs,
    durationMs,
    models: [
      {
        prefix: 'mach',
        share: 1,
        format: 'json',
        clock: 'synced',
        sensors: [
          { kind: 'vibration', samplePeriodMs: PERIOD_MS },
          { kind: 'current', samplePeriodMs: PERIOD_MS },
        ],
        machine: { meanOnMs: 4 * 3_600_000, meanOffMs: 3_600_000 },
      },
    ],
    anomalies: {
      ratePerDay: 2,
      kinds: ['spike', 'dip', 'level-shift', 'stuck', 'noise-burst'],
      warmupMs: 0,
      gapMs: 60_000,
    },
  });
}

/** The simulator's first frames, to give the reference publisher the same payloads and topics. */
function sampleFrames(): Frame[] {
  const f = fleet(Date.now() - 10_000, 10_000);
  const frames: Frame[] = [];
  for (const d of f.devices.slice(0, 1000)) d.step((fr) => frames.push(fr));
  return frames;
}

async function bareMqtt(url: string): Promise<{ messagesPerS: number; readingsPerS: number }> {
  const frames = sampleFrames();
  const clients = await Promise.all(
    Array.from({ length: connections }, (_, i) => mqtt.connectAsync(url, { clientId: `bench-bare-${i}`, clean: true })),
  );
  const maxInFlight = 1000;
  let inFlight = 0;
  let sent = 0;
  let readings = 0;
  let wake: (() => void) | undefined;
  const done = (): void => {
    inFlight--;
    if (inFlight <= maxInFlight / 2 && wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 512; k++) {
      const fr = frames[i++ % frames.length]!;
      inFlight++;
      clients[i % connections]!.publish(fr.topic, fr.payload, { qos }, done);
      sent++;
      readings += fr.readings;
      if (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  const s = (performance.now() - start) / 1000;
  await Promise.all(clients.map((c) => c.endAsync()));
  return { messagesPerS: sent / s, readingsPerS: readings / s };
}

async function simulator(
  url: string,
  speed: number,
): Promise<{ readingsPerS: number; messagesPerS: number; lagMs: number; simSeconds: number }> {
  const transport = await MqttTransport.connect({ url, qos, connections });
  // Real time plays from now; accelerated runs play the span that just ended.
  const durationMs = seconds * 1000 * speed;
  const startMs = speed === 1 ? Date.now() : Date.now() - durationMs;
  const f = fleet(startMs, durationMs);
  const clock = new SimClock(startMs, speed);
  const sim = new Simulator(f, clock, transport);
  const wallStart = performance.now();
  let worstLagMs = 0;
  const timer = setTimeout(() => sim.stop(), seconds * 1000);
  const stats = await sim.run((s) => {
    if (speed === 1) worstLagMs = Math.max(worstLagMs, clock.now() - s.simTime);
  });
  clearTimeout(timer);
  const wall = (performance.now() - wallStart) / 1000;
  await transport.close();
  return {
    readingsPerS: stats.readings / wall,
    messagesPerS: stats.messages / wall,
    lagMs: worstLagMs,
    simSeconds: (stats.simTime - startMs) / 1000,
  };
}

const broker = await startMosquitto();
try {
  say(
    `bench:sim — ${devices} devices × ${SENSORS} sensors at ${1000 / PERIOD_MS} Hz = ${targetReadingsPerS} readings/s target; Mosquitto ${broker.url}, ${connections} connections, QoS ${qos}, ${seconds} s per phase`,
  );
  const bare = await bareMqtt(broker.url);
  say(
    `  bare mqtt.js publisher     ${Math.round(bare.messagesPerS).toLocaleString('en')} messages/s = ${Math.round(bare.readingsPerS).toLocaleString('en')} readings/s`,
  );
  const real = await simulator(broker.url, 1);
  say(
    `  simulator, real time       ${Math.round(real.readingsPerS).toLocaleString('en')} readings/s (${Math.round(real.messagesPerS).toLocaleString('en')} messages/s), worst lag behind the clock ${Math.round(real.lagMs)} ms`,
  );
  const max = await simulator(broker.url, 1000);
  say(
    `  simulator, accelerated     ${Math.round(max.readingsPerS).toLocaleString('en')} readings/s (${Math.round(max.messagesPerS).toLocaleString('en')} messages/s), ${Math.round(max.simSeconds)} simulated s`,
  );
  const sustained = real.readingsPerS >= 0.98 * targetReadingsPerS && real.lagMs < 2000;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'sim',
      devices,
      connections,
      qos,
      phaseSeconds: seconds,
      targetReadingsPerS,
      bareMqttMessagesPerS: Math.round(bare.messagesPerS),
      bareMqttReadingsPerS: Math.round(bare.readingsPerS),
      simRealtimeReadingsPerS: Math.round(real.readingsPerS),
      simRealtimeMessagesPerS: Math.round(real.messagesPerS),
      simRealtimeWorstLagMs: Math.round(real.lagMs),
      simMaxReadingsPerS: Math.round(max.readingsPerS),
      simMaxMessagesPerS: Math.round(max.messagesPerS),
      targetSustained: sustained,
    })}\n`,
  );
} finally {
  await broker.stop();
}
