import { join } from 'node:path';
import { CloudProcessor } from '@tributary/cloud-processor';
import {
  Fleet,
  MqttTransport,
  SimClock,
  Simulator,
  defaultAnomalyKinds,
  scoreAlerts,
  sensorKinds,
  type AnomalyKind,
  type FleetOptions,
  type Score,
} from '@tributary/device-simulator';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { silentLogger, type Logger } from '@tributary/runtime';
import { readingsStored } from '@tributary/storage';
import { waitFor } from './wait.js';

export interface PipelineOptions {
  readonly influxUrl: string;
  readonly database: string;
  /** The embedded aedes broker of the cloud processor, or an external broker's URL. */
  readonly brokerUrl?: string;
  readonly stateDir: string;
  readonly devices: number;
  readonly seed: number | string;
  readonly durationMs: number;
  /** Simulated ms per wall-clock ms. */
  readonly speed: number;
  readonly samplePeriodMs: number;
  readonly windowMs: number;
  /** Sliding windows: the agent's windows.slideMs (tumbling, the default, when omitted). */
  readonly slideMs?: number;
  /** The agent's windows.lateReadings (and allowed lateness, the default: two sample periods). */
  readonly lateReadings?: 'drop' | 're-emit';
  readonly allowedLatenessMs?: number;
  readonly anomalyRatePerDay: number;
  readonly anomalyKinds?: readonly AnomalyKind[];
  /** How the agent reaches the cloud: MQTT (default) or HTTP POST. */
  readonly uplink?: 'mqtt' | 'http';
  /** Device models and wire misbehaviour (malformed payloads, duplicates, …); by default none. */
  readonly fleet?: Pick<FleetOptions, 'models' | 'behaviour'>;
  readonly log?: Logger;
}

export interface PipelineSummary {
  readonly readingsSent: number;
  readonly messagesSent: number;
  readonly readingsAccepted: number;
  /** Removed by the agent's pre-filters (out-of-range glitches, for the demo's fleet). */
  readonly readingsFiltered: number;
  readonly windowsWritten: number;
  readonly alertsOpened: number;
  readonly anomaliesInjected: number;
  readonly score: Score;
  readonly drained: boolean;
}

/**
 * The whole path in one process, as the demo and the end-to-end tests run it:
 * simulated fleet → MQTT → edge agent → MQTT → cloud processor → InfluxDB, alerts.
 */
export class Pipeline {
  readonly alerts: AlertEvent[] = [];
  private sim: Simulator | undefined;
  private transport: MqttTransport | undefined;
  private extraMessages = 0;
  private agentStopped = false;

  private constructor(
    readonly options: PipelineOptions,
    readonly cloud: CloudProcessor,
    readonly agent: EdgeAgent,
    readonly fleet: Fleet,
  ) {
    cloud.onAlert((alert) => this.alerts.push(alert));
  }

  static async start(options: PipelineOptions): Promise<Pipeline> {
    const log = options.log ?? silentLogger;
    const cloudConfig = ProcessorConfigSchema.parse({
      broker:
        options.brokerUrl === undefined
          ? { type: 'embedded', host: '127.0.0.1', port: 0 }
          : { type: 'external', url: options.brokerUrl },
      influx: { url: options.influxUrl, database: options.database },
      stateDir: join(options.stateDir, 'cloud'),
      http: { host: '127.0.0.1', port: 0 },
    });
    const cloud = new CloudProcessor({ config: cloudConfig, log: log.child({ process: 'cloud' }) });
    await cloud.start();
    const url = cloud.brokerUrl;
    const agentConfig = AgentConfigSchema.parse({
      agentId: 'demo-gw',
      site: 'demo-site',
      sources: [{ type: 'mqtt', url }],
      filters: Object.fromEntries(
        Object.values(sensorKinds).map((k) => [k.metric, [{ type: 'range', min: k.range.min, max: k.range.max }]]),
      ),
      windows: {
        lengthMs: options.windowMs,
        allowedLatenessMs: options.allowedLatenessMs ?? options.samplePeriodMs * 2,
        ...(options.slideMs === undefined ? {} : { slideMs: options.slideMs }),
        ...(options.lateReadings === undefined ? {} : { lateReadings: options.lateReadings }),
      },
      batch: { maxWindows: 500, maxDelayMs: 300 },
      uplink:
        options.uplink === 'http'
          ? {
              type: 'http',
              url: `http://127.0.0.1:${cloud.httpPort}`,
              ackTimeoutMs: 5000,
              backoff: { initialMs: 100, maxMs: 2000 },
            }
          : { type: 'mqtt', url, ackTimeoutMs: 5000, backoff: { initialMs: 100, maxMs: 2000 } },
    });
    const agent = new EdgeAgent({
      config: agentConfig,
      stateDir: join(options.stateDir, 'agent'),
      log: log.child({ process: 'agent' }),
    });
    await agent.start();
    await agent.ready();
    // Accelerated runs play the time span that just ended (from a window boundary), so no timestamp
    // lies in the agent's future; real-time runs start now, so event time is the clock's (aligned to
    // the last boundary, readings would be stamped up to a window behind it for the whole run).
    const startMs =
      options.speed > 1
        ? Math.floor((Date.now() - options.durationMs) / options.windowMs) * options.windowMs
        : Date.now();
    const fleet = new Fleet({
      devices: options.devices,
      seed: options.seed,
      startMs,
      durationMs: options.durationMs,
      samplePeriodMs: options.samplePeriodMs,
      anomalies: {
        ratePerDay: options.anomalyRatePerDay,
        kinds: options.anomalyKinds ?? defaultAnomalyKinds,
        warmupMs: 2 * 3_600_000,
        gapMs: 3_600_000,
      },
      ...options.fleet,
    });
    return new Pipeline(options, cloud, agent, fleet);
  }

  /** Plays the fleet to the end of its duration (or until `stopPlaying`). */
  async play(onProgress?: (sim: { readings: number; simTime: number }) => void): Promise<void> {
    this.transport = await MqttTransport.connect({ url: this.cloud.brokerUrl, qos: 1 });
    this.sim = new Simulator(this.fleet, new SimClock(this.fleet.options.startMs, this.options.speed), this.transport);
    await this.sim.run(onProgress);
    await this.transport.close();
    this.transport = undefined;
  }

  stopPlaying(): void {
    this.sim?.stop();
  }

  /** Publishes raw payloads as a device would (for hostile-input tests), counted as sent messages. */
  async publishRaw(topic: string, payloads: readonly string[]): Promise<void> {
    const t = this.transport ?? (await MqttTransport.connect({ url: this.cloud.brokerUrl, qos: 1 }));
    await t.publishRaw(topic, payloads);
    if (t !== this.transport) await t.close();
    this.extraMessages += payloads.length;
  }

  /** Publishes messages as devices would, in the order given (QoS 1, one connection), counted as sent messages. */
  async publishInOrder(messages: ReadonlyArray<{ readonly topic: string; readonly payload: string }>): Promise<void> {
    const t = this.transport ?? (await MqttTransport.connect({ url: this.cloud.brokerUrl, qos: 1 }));
    // One topic at a time keeps the order across devices (each call publishes its payloads in order).
    for (const m of messages) await t.publishRaw(m.topic, [m.payload]);
    if (t !== this.transport) await t.close();
    this.extraMessages += messages.length;
  }

  /** Waits until the agent has received every message sent so far (the fleet's and raw ones); returns how many that is. */
  async received(): Promise<number> {
    const expected = (this.sim?.stats.messages ?? 0) + this.extraMessages;
    await waitFor(
      'the agent to receive every message',
      () => this.agent.counters.get('messages_received') >= expected,
      30_000,
    );
    return expected;
  }

  /**
   * Waits until the agent has received every message sent, stops it (flushing open windows) and
   * waits for the cloud to ack everything; then scores the alerts against the ground truth.
   */
  async finish(): Promise<PipelineSummary> {
    const stats = this.sim?.stats ?? { messages: 0, readings: 0, simTime: 0 };
    const expected = await this.received();
    this.agentStopped = true;
    const { drained } = await this.agent.stop(30_000);
    const simEnd = this.fleet.options.startMs + this.fleet.options.durationMs;
    const labels = this.fleet.labels.filter((l) => l.start < Math.min(simEnd, stats.simTime + 1));
    const opened = this.alerts.filter((a) => a.state === 'opened');
    return {
      readingsSent: stats.readings,
      messagesSent: expected,
      readingsAccepted: this.agent.counters.get('readings_accepted'),
      readingsFiltered: this.agent.counters.get('readings_filtered'),
      windowsWritten: this.cloud.counters.get('windows_written'),
      alertsOpened: opened.length,
      anomaliesInjected: labels.length,
      score: scoreAlerts(labels, opened, { earlyMs: this.options.windowMs, lateMs: 2 * this.options.windowMs }),
      drained,
    };
  }

  /** Σ count over every window of every metric in InfluxDB. */
  countInInflux(): Promise<number> {
    return readingsStored({ url: this.options.influxUrl, database: this.options.database }, Object.keys(sensorKinds));
  }

  /** Stops the cloud, and the agent if `finish` did not (a test that failed before it must still end). */
  async close(): Promise<void> {
    if (!this.agentStopped) {
      this.agentStopped = true;
      await this.agent.stop(0);
    }
    await this.cloud.stop();
  }
}
