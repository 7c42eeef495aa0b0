import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, ProcessorConfigSchema, type AgentConfigInput } from '@tributary/firmware-schemas';
import { silentLogger, type Logger } from '@tributary/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import { influxQuery, startInfluxd, type Influxd } from '../harness/influxd.js';
import { scratchDir } from '../harness/scratch.js';

const DATABASE = 'eventtime';

/** Window settings of these tests: short, so silences and idle intervals take seconds. */
export const WINDOW_MS = 2_000;
export const LATENESS_MS = 500;
export const BATCH_MS = 300;

/**
 * A real influxd, the cloud processor with its embedded broker (aedes), the edge agent subscribed
 * to it, and a device publisher — everything on the real clock, so devices stamp readings with
 * `Date.now()` plus their own clock's offset, as sensors do. Keeps the agent's warnings.
 */
export class EventTimeRig {
  /** Readings published per device. */
  readonly sent = new Map<string, number>();
  private seq = 0;
  private stopped: Promise<unknown> | undefined;

  private constructor(
    /** The agent's warnings, each as its message and fields. */
    readonly warnings: readonly string[],
    readonly influxd: Influxd,
    readonly cloud: CloudProcessor,
    readonly agent: EdgeAgent,
    private readonly devices: MqttClient,
  ) {}

  static async start(t: TestContext, agentConfig: Partial<AgentConfigInput> = {}): Promise<EventTimeRig> {
    // One hook, stopping in the order data flows (after-hooks run in the order they are registered):
    // a cloud stopped after its database would retry its writes.
    const parts: Array<() => Promise<unknown>> = [];
    t.after(async () => {
      for (const stop of parts.reverse()) await stop();
    });
    const influxd = await startInfluxd();
    parts.push(() => influxd.stop());
    const dir = scratchDir('eventtime');
    const cloud = new CloudProcessor({
      config: ProcessorConfigSchema.parse({
        broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
        influx: { url: influxd.url, database: DATABASE },
        stateDir: join(dir, 'cloud'),
        http: { host: '127.0.0.1', port: 0 },
      }),
      log: silentLogger,
    });
    await cloud.start();
    parts.push(() => cloud.stop());
    const warnings: string[] = [];
    const log: Logger = {
      ...silentLogger,
      warn: (o, msg) => void warnings.push(`${msg} ${JSON.stringify(o)}`),
      child: () => log,
    };
    const config = AgentConfigSchema.parse({
      agentId: 'gw-eventtime',
      sources: [{ type: 'mqtt', url: cloud.brokerUrl }],
      windows: { lengthMs: WINDOW_MS, allowedLatenessMs: LATENESS_MS },
      batch: { maxDelayMs: BATCH_MS },
      uplink: { type: 'mqtt', url: cloud.brokerUrl, ackTimeoutMs: 5_000, backoff: { initialMs: 100, maxMs: 1_000 } },
      reportIntervalMs: 500,
      ...agentConfig,
    });
    const agent = new EdgeAgent({ config, stateDir: join(dir, 'agent'), log });
    await agent.start();
    await agent.ready();
    const devices = await mqtt.connectAsync(cloud.brokerUrl, { clientId: `devices-${process.pid}`, clean: true });
    const rig = new EventTimeRig(warnings, influxd, cloud, agent, devices);
    parts.push(
      () => rig.stopAgent(),
      () => devices.endAsync(),
    );
    return rig;
  }

  /** Stops the agent (it flushes its open windows and waits for the cloud's acks); once. */
  async stopAgent(): Promise<void> {
    this.stopped ??= this.agent.stop(10_000);
    await this.stopped;
  }

  /** One reading of `temperature`, stamped with the device's clock (the agent's plus `offsetMs`). */
  async publish(device: string, offsetMs = 0): Promise<void> {
    const body = JSON.stringify({
      device,
      ts: Date.now() + offsetMs,
      seq: this.seq++,
      values: { temperature: 20 + (this.seq % 10) },
    });
    await this.devices.publishAsync(`sensors/${device}/telemetry`, body, { qos: 1 });
    this.sent.set(device, (this.sent.get(device) ?? 0) + 1);
  }

  /** Publishes from each device every `everyMs` for `forMs`, in turns. */
  async play(
    devices: ReadonlyArray<{ readonly device: string; readonly offsetMs?: number }>,
    forMs: number,
    everyMs: number,
  ): Promise<void> {
    const end = Date.now() + forMs;
    while (Date.now() < end) {
      for (const d of devices) await this.publish(d.device, d.offsetMs);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** Waits until the agent has received every message published. */
  async received(): Promise<void> {
    const expected = [...this.sent.values()].reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 10_000;
    while (this.agent.counters.get('messages_received') < expected) {
      if (Date.now() > deadline)
        throw new Error(`the agent received ${this.agent.counters.get('messages_received')} of ${expected} messages`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Σ count in InfluxDB per device. */
  async countsInInflux(): Promise<Map<string, number>> {
    const series = await influxQuery(
      this.influxd.url,
      DATABASE,
      'SELECT sum("count") FROM "temperature" GROUP BY "device"',
    );
    return new Map(series.map((s) => [s.tags?.device ?? '', Number(s.values[0]?.[1] ?? 0)]));
  }

  /** Windows in InfluxDB as `device/end` → count. */
  async windowsInInflux(): Promise<Map<string, number>> {
    const series = await influxQuery(this.influxd.url, DATABASE, 'SELECT "count" FROM "temperature" GROUP BY "device"');
    const out = new Map<string, number>();
    for (const s of series)
      for (const [time, count] of s.values) out.set(`${s.tags?.device ?? ''}/${Number(time)}`, Number(count));
    return out;
  }

  /**
   * Polls InfluxDB until `done` holds for its counts per device; resolves with the time it took
   * from `since`, or rejects after `timeoutMs`.
   */
  async until(
    what: string,
    done: (counts: Map<string, number>) => boolean,
    since: number,
    timeoutMs: number,
  ): Promise<number> {
    for (;;) {
      const counts = await this.countsInInflux();
      if (done(counts)) return Date.now() - since;
      if (Date.now() - since > timeoutMs)
        throw new Error(
          `${what}: not after ${timeoutMs} ms (InfluxDB holds ${JSON.stringify(Object.fromEntries(counts))}, sent ${JSON.stringify(Object.fromEntries(this.sent))})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
