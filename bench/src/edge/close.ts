import { join } from 'node:path';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import mqtt from 'mqtt';
import { influxQuery, startInfluxd } from '@tributary/test/harness/influxd.js';
import { scratchDir } from '@tributary/test/harness/scratch.js';

const WINDOW_MS = 5_000;
const LATENESS_MS = 1_000;
/** The default batch.maxDelayMs. */
const BATCH_MS = 1_000;
const DEVICES = 500;
const MESSAGES_PER_S = 2_000;
const LOAD_MS = 5_000;
const ROUNDS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * When the load stops: the time from the last reading to the last window in InfluxDB (written and
 * acked by the cloud), with the agent still running — what idle progress buys (issue 23; target
 * window + lateness + 1 s). Real influxd, the cloud processor with its embedded broker, the agent
 * in this process; each round a fresh fleet of 500 devices at 2,000 messages/s for 5 s, stamped
 * with the agent's clock. Reference, same run: when the last window is due by event time (its end
 * + lateness after the last reading), which no agent that honours the lateness can beat.
 */
export async function benchClose(log: (line: string) => void): Promise<Record<string, number>> {
  const influxd = await startInfluxd();
  const dir = scratchDir('bench-close');
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      influx: { url: influxd.url, database: 'close' },
      stateDir: join(dir, 'cloud'),
      http: { host: '127.0.0.1', port: 0 },
    }),
    log: silentLogger,
  });
  await cloud.start();
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'bench-close',
      sources: [{ type: 'mqtt', url: cloud.brokerUrl }],
      windows: { lengthMs: WINDOW_MS, allowedLatenessMs: LATENESS_MS },
      batch: { maxDelayMs: BATCH_MS },
      uplink: { type: 'mqtt', url: cloud.brokerUrl },
    }),
    stateDir: join(dir, 'agent'),
    log: silentLogger,
  });
  await agent.start();
  await agent.ready();
  const devices = await mqtt.connectAsync(cloud.brokerUrl, { clean: true });
  const closes: number[] = [];
  const due: number[] = [];
  let total = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      let sent = 0;
      let last = 0;
      const start = Date.now();
      while (Date.now() - start < LOAD_MS) {
        const batch: Promise<unknown>[] = [];
        for (let i = 0; i < MESSAGES_PER_S / 100; i++, sent++) {
          const device = `r${round}-${String(sent % DEVICES).padStart(4, '0')}`;
          last = Date.now();
          batch.push(
            devices.publishAsync(
              `sensors/${device}/telemetry`,
              JSON.stringify({ device, ts: last, values: { temperature: 20 + (sent % 7) } }),
              { qos: 1 },
            ),
          );
        }
        await Promise.all(batch);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const lastReading = Date.now();
      for (;;) {
        const series = await influxQuery(
          influxd.url,
          'close',
          `SELECT sum("count") FROM "temperature" WHERE "device" =~ /^r${round}-/`,
        );
        const stored = Number(series[0]?.values[0]?.[1] ?? 0);
        if (stored === sent) break;
        if (Date.now() - lastReading > 60_000) {
          const c = agent.counters.snapshot();
          throw new Error(
            `round ${round}: ${stored} of ${sent} readings in InfluxDB after 60 s (agent: received ${c.messages_received}, accepted ${c.readings_accepted}, late ${c.readings_late}, shed ${c.messages_shed}, invalid ${c.messages_invalid})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      total += sent;
      const took = Date.now() - lastReading;
      const dueAfter = Math.ceil((last + 1) / WINDOW_MS) * WINDOW_MS + LATENESS_MS - last;
      closes.push(took);
      due.push(dueAfter);
      log(
        `  round ${round}: ${sent} messages in ${LOAD_MS / 1000} s, then silence: last window in InfluxDB ${took} ms after the last reading (due by event time after ${dueAfter} ms; target ${WINDOW_MS + LATENESS_MS + 1_000} ms)`,
      );
    }
    if (agent.counters.get('readings_accepted') !== total)
      throw new Error(`expected every reading accepted, got ${agent.counters.get('readings_accepted')} of ${total}`);
  } finally {
    await devices.endAsync();
    await agent.stop(5_000);
    await cloud.stop();
    await influxd.stop();
  }
  return {
    close_last_reading_to_last_window_in_influx_ms_median: median(closes),
    close_last_reading_to_last_window_in_influx_ms_max: Math.max(...closes),
    reference_close_due_by_event_time_ms_median: median(due),
    close_target_ms: WINDOW_MS + LATENESS_MS + 1_000,
    close_window_ms: WINDOW_MS,
    close_lateness_ms: LATENESS_MS,
    close_batch_delay_ms: BATCH_MS,
  };
}
