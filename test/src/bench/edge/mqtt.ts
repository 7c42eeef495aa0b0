import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MqttSource } from '@tributary/edge-agent';
import { MqttSourceConfig, silentLogger, systemClock } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { startMosquitto } from '../../harness/mosquitto.js';
import { waitFor } from '../../harness/wait.js';
import { makeCore } from './core.js';

const publisher = fileURLToPath(new URL('./publisher.js', import.meta.url));
const MESSAGES = 100_000;
const DEVICES = 5_000;
const ROUNDS = 3;

/** A subscriber under test: connects with a persistent session, counts what it has received. */
interface Subscriber {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  count(): number;
}

function publish(url: string): Promise<void> {
  const child = spawn(process.execPath, [publisher, url, String(MESSAGES), String(DEVICES)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited with ${code}`)))));
}

/**
 * The broker queues MESSAGES for the subscriber's persistent session while it is away; then the
 * subscriber reconnects and drains the backlog as fast as it can: the rate is taken from its first
 * to its last message, so it measures the subscriber, not the publisher.
 */
async function trial(url: string, sub: Subscriber): Promise<number> {
  await sub.connect();
  await sub.disconnect();
  await publish(url);
  const before = sub.count();
  await sub.connect();
  let first = 0;
  let last = 0;
  let seen = before;
  let quietSince = performance.now();
  await waitFor(
    'the backlog to drain',
    () => {
      const n = sub.count();
      const now = performance.now();
      if (n !== seen) {
        if (seen === before) first = now;
        last = now;
        seen = n;
        quietSince = now;
      }
      // Done when all arrived, or nothing more came for 5 s (then the rate is over what came).
      return n - before >= MESSAGES || (seen > before && now - quietSince > 5_000);
    },
    120_000,
    2,
  );
  await sub.disconnect();
  const received = seen - before;
  if (received < MESSAGES) process.stderr.write(`  (only ${received} of ${MESSAGES} messages arrived)\n`);
  return (received - 1) / ((last - first) / 1000);
}

export async function benchMqtt(log: (line: string) => void): Promise<Record<string, number>> {
  const broker = await startMosquitto();
  try {
    const bare: number[] = [];
    const agent: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Reference: a bare mqtt client that only counts messages.
      let count = 0;
      let client: mqtt.MqttClient | undefined;
      const bareSub: Subscriber = {
        connect: async () => {
          // The listener goes on before CONNACK: the broker sends the backlog right after it.
          const c = mqtt.connect(broker.url, { clientId: `bench-bare-${round}`, clean: false });
          client = c;
          c.on('message', () => count++);
          await new Promise<void>((resolve, reject) => {
            c.once('connect', () => resolve());
            c.once('error', reject);
          });
          await client.subscribeAsync('sensors/+/telemetry', { qos: 1 });
        },
        disconnect: async () => void (await client?.endAsync()),
        count: () => count,
      };
      const b = await trial(broker.url, bareSub);
      bare.push(b);
      log(`  round ${round + 1}: bare client ${Math.round(2 * b).toLocaleString('en')} readings/s`);

      // The agent's MQTT source feeding its core (decode, validate, filters, windows, batcher).
      const core = makeCore({ maxSeries: 20_000, clock: systemClock, encodeBatches: false });
      const config = MqttSourceConfig.parse({ type: 'mqtt', url: broker.url, qos: 1, session: 'persistent' });
      let source: MqttSource | undefined;
      const agentSub: Subscriber = {
        connect: async () => {
          source = new MqttSource(config, core.pipeline, silentLogger, `bench-agent-${round}`);
          await source.start();
          await source.ready();
        },
        disconnect: async () => source?.stop(),
        count: () => core.counters.get('messages_received'),
      };
      const a = await trial(broker.url, agentSub);
      agent.push(a);
      log(`  round ${round + 1}: agent       ${Math.round(2 * a).toLocaleString('en')} readings/s (${core.counters.get('readings_accepted')} readings accepted)`);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const bestBare = Math.max(...bare);
    const bestAgent = Math.max(...agent);
    return {
      mqtt_agent_readings_per_s_best: Math.round(2 * bestAgent),
      reference_mqtt_bare_client_readings_per_s_best: Math.round(2 * bestBare),
      mqtt_agent_readings_per_s_median: Math.round(2 * median(agent)),
      reference_mqtt_bare_client_readings_per_s_median: Math.round(2 * median(bare)),
      mqtt_agent_vs_bare_ratio_best: Math.round((bestAgent / bestBare) * 1000) / 1000,
      mqtt_agent_vs_bare_ratio_median: Math.round((median(agent) / median(bare)) * 1000) / 1000,
    };
  } finally {
    await broker.stop();
  }
}
