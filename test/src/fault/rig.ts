import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Fleet, MqttTransport, SimClock, Simulator, sensorKinds } from '@tributary/device-simulator';
import type { AgentConfigInput } from '@tributary/firmware-schemas';
import { BatchObserver, influxCountsBySeries } from '../harness/batch-observer.js';
import { influxQuery, startInfluxd, type Influxd } from '../harness/influxd.js';
import { startMosquitto, type Mosquitto } from '../harness/mosquitto.js';
import { NodeService } from '../harness/processes.js';
import { waitFor } from '../harness/wait.js';
import { scratchDir } from '../harness/scratch.js';

const METRICS = Object.keys(sensorKinds);
const DATABASE = 'fault';

export interface RigOptions {
  /** A broker for the uplink apart from the one the devices publish to, so the uplink can fail alone. */
  readonly separateUplinkBroker?: boolean;
  readonly spool?: Record<string, unknown>;
  readonly devices?: number;
}

/** What a run ended with, for the assertions and the issue note. */
export interface RunReport {
  readonly sent: number;
  /** Σ count of every window the agent spooled and sent (latest revision): what it accepted into closed windows. */
  readonly spooled: number;
  readonly inInflux: number;
  readonly perSeriesSpooled: Map<string, number>;
  readonly perSeriesInflux: Map<string, number>;
  /** Counters of the agent's last run, from its final log line. */
  readonly agentCounters: Record<string, number>;
}

/**
 * Real processes for fault tests: influxd, Mosquitto (one broker, or one for devices and one for
 * the uplink), the cloud processor and the edge agent from their CLIs, a simulated fleet in this
 * process, and an observer of the batches on the wire.
 */
export class FaultRig {
  private sim: Simulator | undefined;
  private simDone: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly influxd: Influxd,
    readonly deviceBroker: Mosquitto,
    readonly uplinkBroker: Mosquitto,
    readonly cloud: NodeService,
    readonly agent: NodeService,
    readonly observer: BatchObserver,
    private readonly devices: number,
  ) {}

  static async start(t: TestContext, options: RigOptions = {}): Promise<FaultRig> {
    const dir = scratchDir('fault');
    const influxd = await startInfluxd();
    t.after(() => influxd.stop());
    const deviceBroker = await startMosquitto();
    t.after(() => deviceBroker.stop());
    const uplinkBroker = options.separateUplinkBroker ? await startMosquitto() : deviceBroker;
    if (uplinkBroker !== deviceBroker) t.after(() => uplinkBroker.stop());
    for (const sub of ['cloud', 'agent']) mkdirSync(join(dir, sub));
    const cloud = await NodeService.cloud(join(dir, 'cloud'), {
      broker: { type: 'external', url: uplinkBroker.url },
      influx: { url: influxd.url, database: DATABASE },
      stateDir: join(dir, 'cloud', 'state'),
    });
    t.after(() => cloud.kill());
    const observer = await BatchObserver.start(uplinkBroker.url);
    t.after(() => observer.stop());
    const agentConfig: AgentConfigInput = {
      agentId: 'gw-fault',
      // A persistent session: Mosquitto keeps what the agent has not acknowledged (the write-ahead
      // log acknowledges only what it holds) and what comes while the agent is down.
      sources: [{ type: 'mqtt', url: deviceBroker.url, session: 'persistent' }],
      windows: { lengthMs: 10_000, allowedLatenessMs: 2_000 },
      batch: { maxWindows: 40, maxDelayMs: 300 },
      uplink: {
        type: 'mqtt',
        url: uplinkBroker.url,
        maxInFlight: 4,
        ackTimeoutMs: 3_000,
        backoff: { initialMs: 100, maxMs: 4_000 },
      },
      spool: { type: 'disk', ...options.spool },
      stateDir: join(dir, 'agent', 'state'),
    };
    const agent = await NodeService.agent(join(dir, 'agent'), agentConfig);
    t.after(() => agent.kill());
    return new FaultRig(dir, influxd, deviceBroker, uplinkBroker, cloud, agent, observer, options.devices ?? 10);
  }

  /** Starts the fleet in the background: `wallSeconds` of play, 10 simulated seconds per second. */
  async play(wallSeconds: number): Promise<void> {
    const speed = 10;
    const durationMs = wallSeconds * 1000 * speed;
    const startMs = Math.floor((Date.now() - durationMs) / 10_000) * 10_000;
    const fleet = new Fleet({
      devices: this.devices,
      seed: 11,
      startMs,
      durationMs,
      samplePeriodMs: 1_000,
      anomalies: { ratePerDay: 0, kinds: [], warmupMs: 0, gapMs: 0 },
    });
    const transport = await MqttTransport.connect({ url: this.deviceBroker.url, qos: 1 });
    this.sim = new Simulator(fleet, new SimClock(startMs, speed), transport);
    this.simDone = this.sim.run().then(() => transport.close());
  }

  /** Ends the fleet's play now (what it sent so far is all it sends). */
  stopPlaying(): void {
    this.sim?.stop();
  }

  get sent(): number {
    return this.sim?.stats.readings ?? 0;
  }

  /** Waits for the fleet to finish and the agent to have read everything it will get. */
  async waitForFleet(): Promise<void> {
    await this.simDone;
    let last = -1;
    await waitFor(
      'the agent to stop receiving',
      async () => {
        const now = await this.agent.metric('tributary_agent_messages_received_total');
        const stable = now === last;
        last = now;
        return stable;
      },
      20_000,
      500,
    );
  }

  /**
   * Stops the agent gracefully (it flushes its open windows and waits for acks), then waits until
   * InfluxDB holds every window the agent sent, and reports.
   */
  async finish(): Promise<RunReport> {
    await this.waitForFleet();
    await this.agent.stop();
    const stopped = this.agent.logs('agent stopped')[0];
    assert.ok(stopped, `the agent logged its final counters:\n${this.agent.output}`);
    const agentCounters = stopped.counters as Record<string, number>;
    const perSeriesSpooled = this.observer.countsBySeries();
    let perSeriesInflux = new Map<string, number>();
    const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    // A batch the spool dropped after sending it may never have reached the cloud (sent just as the
    // broker died): those readings may be missing. Everything else was acked before the agent
    // stopped, so it is durable; wait for that, then for the count to settle (a late copy of a
    // dropped batch may still be arriving).
    const mayBeMissing = (agentCounters.readings_dropped ?? 0) - (agentCounters.readings_dropped_unsent ?? 0);
    let settled = { total: -1, since: 0 };
    await waitFor(
      'InfluxDB to hold every window the agent sent',
      async () => {
        perSeriesInflux = await influxCountsBySeries((q) => influxQuery(this.influxd.url, DATABASE, q), METRICS);
        const now = total(perSeriesInflux);
        if (now >= this.observer.total()) return true;
        if (now !== settled.total) settled = { total: now, since: Date.now() };
        return now >= this.observer.total() - mayBeMissing && Date.now() - settled.since >= 2_000;
      },
      60_000,
      250,
    );
    return {
      sent: this.sent,
      spooled: this.observer.total(),
      inInflux: total(perSeriesInflux),
      perSeriesSpooled,
      perSeriesInflux,
      agentCounters,
    };
  }
}

/** Series by series: InfluxDB holds exactly what the agent spooled, nothing lost and nothing twice. */
export function assertSeriesEqual(report: RunReport): void {
  assert.ok(report.perSeriesSpooled.size > 0, 'the run produced windows');
  assert.deepEqual(
    Object.fromEntries([...report.perSeriesInflux].sort()),
    Object.fromEntries([...report.perSeriesSpooled].sort()),
  );
}

/** One line per test for the issue note: sent, accepted, in InfluxDB, dropped-and-counted. */
export function describeRun(name: string, r: RunReport, accepted: number, droppedCounted: number): string {
  return `${name}: sent ${r.sent}, accepted ${accepted}, spooled ${r.spooled}, in InfluxDB ${r.inInflux}, dropped and counted ${droppedCounted}`;
}
