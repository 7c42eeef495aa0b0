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
const ROUNDS = 5;

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

/**
 * Rounds of (bare client, agent), each draining the same 100,000-message backlog. The agent keeps
 * one core across rounds, as a running agent keeps its series: an unmeasured first round (whose
 * figures are reported apart as "cold") makes its 10,000 series and warms both clients' code up;
 * the measured rounds then see the steady state of a gateway whose fleet it already knows.
 */
export async function benchMqtt(log: (line: string) => void): Promise<Record<string, number>> {
  const broker = await startMosquitto();
  try {
    const bare: number[] = [];
    const agent: number[] = [];
    const core = makeCore({ maxSeries: 20_000, clock: systemClock, encodeBatches: false });
    const config = MqttSourceConfig.parse({ type: 'mqtt', url: broker.url, qos: 1, session: 'persistent' });
    for (let round = 0; round <= ROUNDS; round++) {
      const label = round === 0 ? 'cold   ' : `round ${round}`;
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
      log(`  ${label}: bare client ${Math.round(2 * b).toLocaleString('en')} readings/s`);

      // The agent's MQTT source feeding its core (decode, validate, filters, windows, batcher).
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
      log(`  ${label}: agent       ${Math.round(2 * a).toLocaleString('en')} readings/s (${core.windows.activeSeries.toLocaleString('en')} series)`);
      if (round === 0) {
        coldFigures.bare = b;
        coldFigures.agent = a;
      } else {
        bare.push(b);
        agent.push(a);
      }
    }
    if (core.counters.get('readings_accepted') !== 2 * MESSAGES * (ROUNDS + 1)) throw new Error(`expected every reading accepted, got ${core.counters.get('readings_accepted')}`);
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
      mqtt_agent_cold_readings_per_s: Math.round(2 * coldFigures.agent),
      reference_mqtt_bare_client_cold_readings_per_s: Math.round(2 * coldFigures.bare),
    };
  } finally {
    await broker.stop();
  }
}

const coldFigures = { bare: 0, agent: 0 };
