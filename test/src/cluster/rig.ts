import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, type AlertEvent, type ProcessorConfigInput } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { connect, type NatsConnection } from 'nats';
import { influxCountsBySeries } from '../harness/batch-observer.js';
import { influxQuery, startInfluxd, type Influxd } from '../harness/influxd.js';
import { startNatsServer, type NatsServer } from '../harness/nats-server.js';
import { NodeService } from '../harness/processes.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { TELEMETRY_METRICS, writeTelemetry } from './telemetry.js';

export const DATABASE = 'cluster';
export const PARTITIONS = 64;
export const LEASE_TTL_MS = 3_000;

export interface ClusterRigOptions {
  readonly processors: number;
  /** Partition snapshots this often (short in tests, so a takeover replays little). */
  readonly snapshotIntervalMs?: number;
}

/** What /api/cluster of a member says. */
export interface MemberView {
  readonly member: string;
  readonly members: string[];
  readonly owned: Array<{ partition: number; epoch: number; seq: number; lag: number }>;
  readonly counters: Record<string, number>;
}

/**
 * Real processes for scale-out tests: influxd, nats-server (JetStream file store, MQTT listener,
 * partition mapping), cloud processors p1…pN as cluster members from their CLI (so they can be
 * killed, paused and stopped), edge agents in this process reading telemetry files and sending
 * their batches over MQTT to nats-server, and a NATS subscriber that sees every alert transition.
 */
export class ClusterRig {
  readonly processors = new Map<string, NodeService>();
  /** Every alert transition published on NATS, in arrival order. */
  readonly alerts: AlertEvent[] = [];
  /** Each agent, with its id and the readings in its file. */
  private readonly agents = new Map<EdgeAgent, { id: string; readings: number }>();
  /** Readings per series `metric/device` in the agents' files: what they accept. */
  readonly expected = new Map<string, number>();

  private constructor(
    private readonly t: TestContext,
    readonly dir: string,
    readonly influxd: Influxd,
    readonly nats: NatsServer,
    private readonly watcher: NatsConnection,
    private readonly o: ClusterRigOptions,
  ) {}

  static async start(t: TestContext, o: ClusterRigOptions): Promise<ClusterRig> {
    const dir = scratchDir('cluster');
    const influxd = await startInfluxd();
    t.after(() => influxd.stop());
    const nats = await startNatsServer({ partitions: PARTITIONS, t });
    const watcher = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    t.after(() => watcher.close());
    const rig = new ClusterRig(t, dir, influxd, nats, watcher, o);
    watcher.subscribe('tributary.v1.alerts.>', {
      callback: (err, msg) => err === null && rig.alerts.push(msg.json<AlertEvent>()),
    });
    await Promise.all(Array.from({ length: o.processors }, (_, i) => rig.addProcessor(`p${i + 1}`)));
    return rig;
  }

  /** Starts a cluster member named `member` from the CLI. */
  async addProcessor(member: string): Promise<NodeService> {
    const dir = join(this.dir, member);
    mkdirSync(dir, { recursive: true });
    const config: ProcessorConfigInput = {
      influx: { url: this.influxd.url, database: DATABASE },
      stateDir: join(dir, 'state'),
      cluster: {
        servers: [this.nats.url],
        member,
        partitions: PARTITIONS,
        leaseTtlMs: LEASE_TTL_MS,
        snapshotIntervalMs: this.o.snapshotIntervalMs ?? 5_000,
      },
    };
    const service = await NodeService.cloud(dir, config, member);
    this.processors.set(member, service);
    this.t.after(() => service.kill());
    return service;
  }

  processor(member: string): NodeService {
    const p = this.processors.get(member);
    if (p === undefined) throw new Error(`no processor ${member}`);
    return p;
  }

  async view(member: string): Promise<MemberView> {
    const res = await fetch(`${this.processor(member).url}/api/cluster`);
    return (await res.json()) as MemberView;
  }

  /** Partition → owning member, as the given running members report it (a partition claimed twice fails). */
  async ownership(members: readonly string[]): Promise<Map<number, string>> {
    const owners = new Map<number, string>();
    for (const m of members) {
      for (const { partition } of (await this.view(m)).owned) {
        assert.equal(
          owners.get(partition),
          undefined,
          `partition ${partition} owned by ${owners.get(partition)} and ${m} at once`,
        );
        owners.set(partition, m);
      }
    }
    return owners;
  }

  /** Waits until `members` own every partition between them; resolves the ownership. */
  async waitAllOwned(members: readonly string[], timeoutMs: number): Promise<Map<number, string>> {
    return waitFor(
      `every partition owned by ${members.join(', ')}`,
      async () => {
        const owners = await this.ownership(members);
        return owners.size === PARTITIONS ? owners : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /**
   * Waits until `members` own every partition and none more than its share, ceil(P / members):
   * the assignment they settle on. Members that started at different moments first own every
   * partition unevenly (the first up takes them all) and then hand partitions over until each is
   * within its share; only from then on does a member's share stay put.
   */
  async waitBalanced(members: readonly string[], timeoutMs: number): Promise<Map<number, string>> {
    const share = Math.ceil(PARTITIONS / members.length);
    return waitFor(
      `every partition owned by ${members.join(', ')}, none with more than ${share}`,
      async () => {
        const owners = await this.ownership(members);
        const counts = members.map((m) => [...owners.values()].filter((o) => o === m).length);
        return owners.size === PARTITIONS && counts.every((n) => n <= share) ? owners : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /**
   * Starts `count` edge agents in this process, each reading `hours` of telemetry of `devices`
   * devices from its own file and sending batches to nats-server's MQTT listener.
   */
  async startAgents(
    count: number,
    o: { devices: number; hours: number; maxInFlight?: number; httpVia?: { member: string; agents: number } },
  ): Promise<void> {
    const durationMs = o.hours * 3_600_000;
    const startMs = Math.floor((Date.now() - durationMs - 3_600_000) / 3_600_000) * 3_600_000;
    for (let i = 0; i < count; i++) {
      const agentId = `gw-${i}`;
      const dir = join(this.dir, agentId);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'telemetry.jsonl');
      let readings = 0;
      for (const [series, n] of writeTelemetry(file, {
        agent: agentId,
        devices: o.devices,
        startMs,
        durationMs,
        samplePeriodMs: 10_000,
        seed: agentId,
      })) {
        this.expected.set(series, n);
        readings += n;
      }
      const config = AgentConfigSchema.parse({
        agentId,
        sources: [{ type: 'file', path: file }],
        windows: { lengthMs: 60_000, allowedLatenessMs: 20_000 },
        batch: { maxWindows: 12, maxDelayMs: 100 },
        uplink: {
          // The last `httpVia.agents` agents post their batches to that member's HTTP relay.
          ...(o.httpVia !== undefined && i >= count - o.httpVia.agents
            ? { type: 'http', url: this.processor(o.httpVia.member).url }
            : { type: 'mqtt', url: this.nats.mqttUrl }),
          maxInFlight: o.maxInFlight ?? 2,
          ackTimeoutMs: 4_000,
          backoff: { initialMs: 100, maxMs: 1_000 },
        },
        spool: { type: 'disk' },
        stateDir: join(dir, 'state'),
      });
      const agent = new EdgeAgent({ config, stateDir: join(dir, 'state'), log: silentLogger });
      this.t.after(() => agent.stop(1_000));
      await agent.start();
      this.agents.set(agent, { id: agentId, readings });
    }
  }

  /** Batches the agents have had acked so far. */
  get acked(): number {
    return [...this.agents.keys()].reduce(
      (n, a) => n + a.counters.get('batches_acked') + a.counters.get('batches_duplicate'),
      0,
    );
  }

  /**
   * Stops the agents (each flushes its open windows and waits until the cloud acked everything),
   * then waits until InfluxDB holds, series by series, every reading they accepted.
   */
  async finish(): Promise<{ accepted: number; perSeriesInflux: Map<string, number> }> {
    const agents = [...this.agents];
    await waitFor(
      'the agents to read their files',
      () => agents.every(([a, { readings }]) => a.counters.get('readings_received') >= readings),
      30_000,
      200,
    );
    const stopped = await Promise.all(agents.map(([a]) => a.stop(60_000)));
    // Which agent still holds batches, and what its uplink went through: a lost ack, a stuck partition or a slow machine.
    const undrained = agents
      .filter((_, i) => !stopped[i]!.drained)
      .map(([a, { id }]) => {
        const batches = (['sealed', 'sent', 'resent', 'acked', 'duplicate', 'rejected'] as const).map(
          (n) => `${n} ${a.counters.get(`batches_${n}`)}`,
        );
        return `${id}: ${a.uplink.queued} queued, ${a.uplink.inFlight} in flight, uplink ${a.uplink.isConnected ? 'connected' : 'down'}; batches ${batches.join(', ')}`;
      });
    assert.deepEqual(undrained, [], 'every agent had every batch acked');
    const accepted = agents.reduce((n, [a]) => n + a.counters.get('readings_accepted'), 0);
    let perSeriesInflux = new Map<string, number>();
    await waitFor(
      'InfluxDB to hold every accepted reading',
      async () => {
        perSeriesInflux = await influxCountsBySeries(
          (q) => influxQuery(this.influxd.url, DATABASE, q),
          TELEMETRY_METRICS,
        );
        return [...perSeriesInflux.values()].reduce((a, b) => a + b, 0) >= accepted;
      },
      20_000,
      250,
    ).catch(() => undefined); // the comparison below says what differs
    return { accepted, perSeriesInflux };
  }

  /** Stops every process of the rig now (the after-hooks then have nothing left to do). */
  async stop(): Promise<void> {
    for (const [agent] of this.agents) await agent.stop(1_000);
    await Promise.all([...this.processors.values()].map((p) => p.kill()));
    await this.watcher.close();
    await this.nats.stop();
    await this.influxd.stop();
  }

  /** What `finish` found against the readings the agents were given: every one accepted, and in InfluxDB once, series by series. */
  assertDeliveredExactly({
    accepted,
    perSeriesInflux,
  }: {
    accepted: number;
    perSeriesInflux: Map<string, number>;
  }): void {
    assert.equal(
      accepted,
      [...this.expected.values()].reduce((a, b) => a + b, 0),
      'the agents accepted every reading of their files',
    );
    assert.deepEqual(
      Object.fromEntries([...perSeriesInflux].sort()),
      Object.fromEntries([...this.expected].sort()),
      'InfluxDB holds every accepted reading once, series by series',
    );
  }

  /** No alert id opened twice (the sinks saw each opening once, across takeovers); the openings per id. */
  assertNoAlertOpenedTwice(): Map<string, number> {
    const openings = this.openingsById();
    assert.deepEqual(
      [...openings].filter(([, n]) => n > 1),
      [],
      'no alert was opened twice',
    );
    return openings;
  }

  /** Alert openings per alert id, as the NATS sink published them. */
  openingsById(): Map<string, number> {
    const out = new Map<string, number>();
    for (const a of this.alerts) if (a.state === 'opened') out.set(a.id, (out.get(a.id) ?? 0) + 1);
    return out;
  }
}
