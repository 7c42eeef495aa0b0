import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MqttSource } from '@tributary/edge-agent';
import { MqttSourceConfig, silentLogger, systemClock } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { startMosquitto } from '../../harness/mosquitto.js';
import { makeCore } from './core.js';

const publisher = fileURLToPath(new URL('./publisher.js', import.meta.url));
const MESSAGES = 300_000;
const DEVICES = 5_000;

interface Counter {
  count(): number;
}

/** Publishes MESSAGES from a child process and measures the subscriber's rate from its first to its last message. */
async function trial(url: string, counter: Counter): Promise<{ msgsPerS: number; received: number }> {
  const child = spawn(process.execPath, [publisher, url, String(MESSAGES), String(DEVICES)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let first = 0;
  let last = 0;
  let seen = 0;
  let quietSince = Date.now();
  // Poll the count: the first change starts the clock; 1 s without change after the publisher exits ends it.
  let publisherDone = false;
  void exited.then(() => (publisherDone = true));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const n = counter.count();
    const now = performance.now();
    if (n !== seen) {
      if (seen === 0) first = now;
      last = now;
      seen = n;
      quietSince = Date.now();
    } else if (publisherDone && Date.now() - quietSince > 1_000) break;
  }
  return { msgsPerS: (seen - 1) / ((last - first) / 1000), received: seen };
}

export async function benchMqtt(log: (line: string) => void): Promise<Record<string, number>> {
  const broker = await startMosquitto();
  try {
    const bare: number[] = [];
    const agent: number[] = [];
    for (let round = 0; round < 2; round++) {
      // Reference: a bare mqtt client that only counts messages.
      let count = 0;
      const client = await mqtt.connectAsync(broker.url, { clean: true });
      client.on('message', () => count++);
      await client.subscribeAsync('sensors/+/telemetry', { qos: 0 });
      const b = await trial(broker.url, { count: () => count });
      await client.endAsync();
      bare.push(b.msgsPerS);
      log(`  round ${round + 1}: bare client ${Math.round(2 * b.msgsPerS).toLocaleString('en')} readings/s (${b.received} of ${MESSAGES} messages)`);

      // The agent's MQTT source feeding its core (decode, validate, filters, windows, batcher).
      const core = makeCore({ maxSeries: 20_000, clock: systemClock });
      const source = new MqttSource(MqttSourceConfig.parse({ type: 'mqtt', url: broker.url, qos: 0 }), core.pipeline, silentLogger, `bench-agent-${round}`);
      await source.start();
      await source.ready();
      const a = await trial(broker.url, { count: () => core.counters.get('messages_received') });
      await source.stop();
      const accepted = core.counters.get('readings_accepted');
      agent.push(a.msgsPerS);
      log(`  round ${round + 1}: agent       ${Math.round(2 * a.msgsPerS).toLocaleString('en')} readings/s (${a.received} of ${MESSAGES} messages, ${accepted} readings accepted)`);
    }
    const bestBare = Math.max(...bare);
    const bestAgent = Math.max(...agent);
    return {
      mqtt_agent_readings_per_s: Math.round(2 * bestAgent),
      reference_mqtt_bare_client_readings_per_s: Math.round(2 * bestBare),
      mqtt_agent_vs_bare_ratio: Math.round((bestAgent / bestBare) * 1000) / 1000,
    };
  } finally {
    await broker.stop();
  }
}
