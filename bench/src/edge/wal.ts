import { MqttSource, WriteAheadLog } from '@tributary/edge-agent';
import { DiskWalConfig, MqttSourceConfig } from '@tributary/firmware-schemas';
import { silentLogger, systemClock } from '@tributary/runtime';
import { startMosquitto } from '@tributary/test/harness/mosquitto.js';
import { scratchDir } from '@tributary/test/harness/scratch.js';
import { makeCore, payloads, T0 } from './core.js';
import { trial, type Subscriber } from './mqtt.js';

const MESSAGES = 200_000;
const DEVICES = 5_000;
/** Messages ingested per event-loop turn in process (the group commit runs between turns, as it does behind a socket). */
const PER_TURN = 500;
const ROUNDS = 4;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A write-ahead log with the defaults (10 ms group commit) in a fresh directory. */
function freshWal(): WriteAheadLog {
  const c = DiskWalConfig.parse({ type: 'disk' });
  const wal = new WriteAheadLog({ ...c, dir: scratchDir('bench-wal') }, () => {
    throw new Error('the bench must not reach maxWalBytes');
  });
  wal.open();
  return wal;
}

/** The core in process, `PER_TURN` messages a turn, with or without the log; readings/s (CPU of this thread and the fsyncs in the pool). */
async function inProcess(withWal: boolean): Promise<{ rate: number; bytesPerReading: number }> {
  const input = payloads(MESSAGES, DEVICES, T0, 1);
  const wal = withWal ? freshWal() : undefined;
  const c = makeCore({ maxSeries: 20_000, encodeBatches: false, ...(wal === undefined ? {} : { wal }) });
  c.clock.set(T0 + MESSAGES + 10_000);
  const start = performance.now();
  for (let i = 0; i < input.length; i += PER_TURN) {
    const end = Math.min(input.length, i + PER_TURN);
    for (let j = i; j < end; j++) c.pipeline.ingestJson(input[j]!, 4096, 'bench');
    await turn();
  }
  if (wal !== undefined) await new Promise<void>((resolve) => wal.afterCommit(resolve));
  const s = (performance.now() - start) / 1000;
  const readings = c.counters.get('readings_accepted');
  const bytes = wal?.bytes ?? 0;
  wal?.close();
  c.flush();
  return { rate: readings / s, bytesPerReading: bytes / readings };
}

/**
 * The write-ahead log's cost: the agent's core in process with and without it (alternating
 * rounds), and the agent's MQTT source draining a 100,000-message backlog from Mosquitto with its
 * PUBACKs held for the group commit, beside the same source acking at once.
 */
export async function benchWal(log: (line: string) => void): Promise<Record<string, number>> {
  const rates = { off: [] as number[], on: [] as number[] };
  let bytesPerReading = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    for (const on of round % 2 === 0 ? [false, true] : [true, false]) {
      const r = await inProcess(on);
      if (on) bytesPerReading = r.bytesPerReading;
      if (round > 0) rates[on ? 'on' : 'off'].push(r.rate);
      log(
        `  ${round === 0 ? 'cold   ' : `round ${round}`}: core in process ${on ? 'with the log   ' : 'without the log'} ${Math.round(r.rate).toLocaleString('en')} readings/s`,
      );
    }
  }
  const broker = await startMosquitto();
  const mqtt = { off: [] as number[], on: [] as number[] };
  try {
    const config = MqttSourceConfig.parse({ type: 'mqtt', url: broker.url, qos: 1, session: 'persistent' });
    for (let round = 0; round <= 2; round++) {
      for (const on of [false, true]) {
        const wal = on ? freshWal() : undefined;
        const c = makeCore({
          maxSeries: 20_000,
          clock: systemClock,
          encodeBatches: false,
          ...(wal === undefined ? {} : { wal }),
        });
        let source: MqttSource | undefined;
        const sub: Subscriber = {
          connect: async () => {
            source = new MqttSource(
              config,
              c.pipeline,
              silentLogger,
              `bench-wal-${on}`,
              wal === undefined ? {} : { ackAfterLog: (release) => wal.afterCommit(release) },
            );
            await source.start();
            await source.ready();
          },
          disconnect: async () => source?.stop(),
          count: () => c.counters.get('messages_received'),
        };
        const r = 2 * (await trial(broker.url, sub));
        wal?.close();
        if (round > 0) mqtt[on ? 'on' : 'off'].push(r);
        log(
          `  ${round === 0 ? 'cold   ' : `round ${round}`}: through MQTT ${on ? 'with the log (acks after the commit)' : 'without the log              '} ${Math.round(r).toLocaleString('en')} readings/s`,
        );
      }
    }
  } finally {
    await broker.stop();
  }
  return {
    wal_core_readings_per_s_median: Math.round(median(rates.on)),
    reference_core_without_wal_readings_per_s_median: Math.round(median(rates.off)),
    wal_core_vs_without_ratio: Math.round((median(rates.on) / median(rates.off)) * 1000) / 1000,
    wal_bytes_per_reading: Math.round(bytesPerReading * 10) / 10,
    wal_mqtt_readings_per_s_median: Math.round(median(mqtt.on)),
    reference_mqtt_without_wal_readings_per_s_median: Math.round(median(mqtt.off)),
    wal_mqtt_vs_without_ratio: Math.round((median(mqtt.on) / median(mqtt.off)) * 1000) / 1000,
  };
}
