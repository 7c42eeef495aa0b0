import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { batchPubacks, MqttSource } from '@tributary/edge-agent';
import { MqttSourceConfig } from '@tributary/firmware-schemas';
import { silentLogger, systemClock } from '@tributary/runtime';
import mqtt from 'mqtt';
import { startMosquitto } from '@tributary/test/harness/mosquitto.js';
import { waitFor } from '@tributary/test/harness/wait.js';
import { makeCore } from './core.js';

const publisher = fileURLToPath(new URL('./publisher.js', import.meta.url));
const MESSAGES = 100_000;
const DEVICES = 5_000;
const ROUNDS = 5;

/** A subscriber under test: connects with a persistent session, counts what it has received. */
export interface Subscriber {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  count(): number;
}

function publish(url: string): Promise<void> {
  const child = spawn(process.execPath, [publisher, url, String(MESSAGES), String(DEVICES)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited with ${code}`)))),
  );
}

/**
 * The broker queues MESSAGES for the subscriber's persistent session while it is away; then the
 * subscriber reconnects and drains the backlog as fast as it can: the rate is taken from the
 * reconnect to its last message, so it measures the subscriber, not the publisher. (Not from the
 * first message seen: the broker sends the backlog right after CONNACK, and up to 1.5% of it had
 * arrived before the subscription was confirmed and the clock could be read, which flattered
 * whichever subscriber took longer to confirm by up to a sixth.)
 */
export async function trial(url: string, sub: Subscriber): Promise<number> {
  await sub.connect();
  await sub.disconnect();
  await publish(url);
  const before = sub.count();
  const start = performance.now();
  await sub.connect();
  let last = 0;
  let seen = before;
  let quietSince = performance.now();
  await waitFor(
    'the backlog to drain',
    () => {
      const n = sub.count();
      const now = performance.now();
      if (n !== seen) {
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
  return received / ((last - start) / 1000);
}

/**
 * Reference: a bare mqtt client that only counts messages; with `batchedAcks`, given the agent's
 * PUBACK batching and no-op debug logger too, to show what the agent's own work costs apart from
 * what it saves in mqtt.js.
 */
function bareSubscriber(url: string, clientId: string, batchedAcks: boolean): Subscriber {
  let count = 0;
  let client: mqtt.MqttClient | undefined;
  return {
    connect: async () => {
      // The listener goes on before CONNACK: the broker sends the backlog right after it.
      const c = mqtt.connect(url, { clientId, clean: false, ...(batchedAcks ? { log: () => undefined } : {}) });
      if (batchedAcks) batchPubacks(c);
      client = c;
      c.on('message', () => count++);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
      await c.subscribeAsync('sensors/+/telemetry', { qos: 1 });
    },
    disconnect: async () => void (await client?.endAsync()),
    count: () => count,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;

/**
 * Rounds of (bare client, bare client with batched acks, agent), each draining the same
 * 100,000-message backlog. The agent keeps one core across rounds, as a running agent keeps its
 * series: an unmeasured first round (whose figures are reported apart as "cold") makes its 10,000
 * series and warms every client's code up; the measured rounds then see the steady state of a
 * gateway whose fleet it already knows.
 */
export async function benchMqtt(log: (line: string) => void): Promise<Record<string, number>> {
  const broker = await startMosquitto();
  try {
    const rates = { bare: [] as number[], batched: [] as number[], agent: [] as number[] };
    const cold = { bare: 0, batched: 0, agent: 0 };
    const core = makeCore({ maxSeries: 20_000, clock: systemClock, encodeBatches: false });
    const config = MqttSourceConfig.parse({ type: 'mqtt', url: broker.url, qos: 1, session: 'persistent' });
    for (let round = 0; round <= ROUNDS; round++) {
      const label = round === 0 ? 'cold   ' : `round ${round}`;
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
      const subscribers = {
        bare: bareSubscriber(broker.url, `bench-bare-${round}`, false),
        batched: bareSubscriber(broker.url, `bench-batched-${round}`, true),
        agent: agentSub,
      };
      const names = { bare: 'bare client', batched: 'bare client, acks batched', agent: 'agent' };
      for (const key of ['bare', 'batched', 'agent'] as const) {
        const r = await trial(broker.url, subscribers[key]);
        const series = key === 'agent' ? ` (${core.windows.activeSeries.toLocaleString('en')} series)` : '';
        log(`  ${label}: ${names[key].padEnd(25)} ${Math.round(2 * r).toLocaleString('en')} readings/s${series}`);
        if (round === 0) cold[key] = r;
        else rates[key].push(r);
      }
    }
    if (core.counters.get('readings_accepted') !== 2 * MESSAGES * (ROUNDS + 1))
      throw new Error(`expected every reading accepted, got ${core.counters.get('readings_accepted')}`);
    const best = (xs: number[]): number => Math.max(...xs);
    return {
      mqtt_agent_readings_per_s_best: Math.round(2 * best(rates.agent)),
      reference_mqtt_bare_client_readings_per_s_best: Math.round(2 * best(rates.bare)),
      mqtt_agent_readings_per_s_median: Math.round(2 * median(rates.agent)),
      reference_mqtt_bare_client_readings_per_s_median: Math.round(2 * median(rates.bare)),
      reference_mqtt_bare_client_batched_acks_readings_per_s_median: Math.round(2 * median(rates.batched)),
      mqtt_agent_vs_bare_ratio_best: ratio(best(rates.agent), best(rates.bare)),
      mqtt_agent_vs_bare_ratio_median: ratio(median(rates.agent), median(rates.bare)),
      mqtt_agent_vs_bare_batched_acks_ratio_median: ratio(median(rates.agent), median(rates.batched)),
      mqtt_agent_cold_readings_per_s: Math.round(2 * cold.agent),
      reference_mqtt_bare_client_cold_readings_per_s: Math.round(2 * cold.bare),
    };
  } finally {
    await broker.stop();
  }
}
