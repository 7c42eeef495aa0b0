import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BATCH_FORMAT_VERSION, encodeBatch, WindowResultSchema, type AgentConfig, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ProblemReport, ProcessMetrics, systemClock, type Clock, type Logger } from '@tributary/runtime';
import { Batcher } from './core/batcher.js';
import { agentHealthReasons } from './health.js';
import { FilterChains } from './core/filters/registry.js';
import { agentCounterHelp, IngestPipeline, type AgentCounter } from './core/pipeline.js';
import { WindowEngine } from './core/window-engine.js';
import type { BrokerRefusal } from './sources/mqtt-broker.js';
import { createSource } from './sources/registry.js';
import type { Source } from './sources/source.js';
import type { BatchQueue } from './spool/batch-queue.js';
import { DiskSpool } from './spool/disk-spool.js';
import { MemoryBatchQueue } from './spool/memory-queue.js';
import { SeqStore } from './spool/seq-store.js';
import { Delivery } from './uplink/delivery.js';
import { HttpUplinkTransport } from './uplink/http.js';
import { MqttUplinkTransport } from './uplink/mqtt.js';
import type { UplinkTransport } from './uplink/transport.js';

export interface AgentOptions {
  readonly config: AgentConfig;
  /** Directory for the agent's durable state (spool, seq); config.stateDir when omitted. */
  readonly stateDir?: string;
  /** Every line of the agent and its units goes here, with what the caller bound (the CLI binds `agent`, once). */
  readonly log: Logger;
  readonly clock?: Clock;
}

const brokerRefusalCounter: Record<BrokerRefusal, AgentCounter> = {
  packet: 'broker_packets_refused',
  connect: 'broker_connects_refused',
  budget: 'broker_unauthenticated_over_budget',
  timeout: 'broker_connect_timeouts',
  protocol: 'broker_protocol_refused',
  login: 'broker_logins_refused',
  subscription: 'broker_subscriptions_refused',
  'subscriber-queue': 'broker_subscriber_drops',
};

/** How often batches are sealed by age, resends are checked and problems are reported. */
const TICK_MS = 100;

/**
 * The edge agent: sources → pipeline (decode, validate, filter, window) → batcher → uplink.
 * Lifecycle: construct (validates, opens nothing) → start → stop (flushes open windows and waits
 * for the cloud to ack what it can before closing).
 */
export class EdgeAgent {
  readonly counters = new Counters<AgentCounter>(agentCounterHelp);
  readonly windows: WindowEngine;
  readonly pipeline: IngestPipeline;
  readonly uplink: Delivery;
  readonly sources: Source[];
  /** /metrics: the counters and gauges (labelled with the agent id) and the sealed → acked latency. */
  readonly prometheus: ProcessMetrics;
  private readonly queue: BatchQueue;
  private readonly batcher: Batcher;
  private readonly problems = new ProblemReport();
  private readonly clock: Clock;
  private readonly log: Logger;
  private tickTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AgentOptions) {
    const { config } = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    const w = config.windows;
    this.windows = new WindowEngine(
      { ...w, slideMs: w.slideMs ?? w.lengthMs },
      {
        window: (window) => this.onWindow(window),
        evicted: () => this.counters.inc('series_evicted'),
        outOfRangeOnly: () => this.counters.inc('windows_out_of_range_only'),
      },
    );
    this.pipeline = new IngestPipeline({
      filters: new FilterChains(config.filters, { stateEvicted: () => this.counters.inc('filter_state_evicted') }),
      windows: this.windows,
      clock: this.clock,
      maxFutureMs: w.maxFutureMs,
      maxMessagesPerS: config.intake.maxMessagesPerS,
      burstMessages: config.intake.burstMessages,
      counters: this.counters,
      problems: this.problems,
    });
    this.batcher = new Batcher(config.batch.maxWindows, config.batch.maxDelayMs, (windows) => this.seal(windows));
    const stateDir = options.stateDir ?? config.stateDir;
    const queue = this.openQueue(stateDir);
    this.queue = queue;
    this.prometheus = new ProcessMetrics('tributary_agent', { agent: config.agentId });
    const ackLatency = this.prometheus.latency('batch_sealed_to_acked', "from a batch's append to the spool to the cloud's ack (ok or duplicate), batches of this run");
    const uplinkLog = this.log.child({ unit: 'uplink' });
    const transport: UplinkTransport =
      config.uplink.type === 'mqtt' ? new MqttUplinkTransport(config.uplink, config.agentId, this.clock, uplinkLog) : new HttpUplinkTransport(config.uplink, config.agentId, uplinkLog);
    this.uplink = new Delivery(queue, transport, config.uplink, this.counters, this.problems, this.clock, uplinkLog, ackLatency);
    this.sources = config.sources.map((s, i) =>
      createSource(s, {
        pipeline: this.pipeline,
        log: this.log.child({ unit: 'source', source: s.name ?? s.type }),
        instanceId: `tributary-agent-${config.agentId}-src${i}`,
        serialPortLost: () => this.counters.inc('serial_port_lost'),
        brokerRefused: (what, example) => {
          this.counters.inc(brokerRefusalCounter[what]);
          this.problems.note(brokerRefusalCounter[what], example);
        },
        stateDir,
        report: (counter, example, by = 1) => {
          this.counters.inc(counter, by);
          this.problems.note(counter, example);
        },
      }),
    );
    this.counters.gauge('active_series', () => this.windows.activeSeries);
    this.counters.gauge('queued_batches', () => this.uplink.queued);
    this.counters.gauge('spool_bytes', () => queue.bytes);
    this.counters.gauge('process_resident_memory_bytes', () => process.memoryUsage.rss());
    this.counters.gauge('inflight_batches', () => this.uplink.inFlight);
    this.prometheus.expose(this.counters);
  }

  /** For /health: ok, or each reason it is not (see agentHealthReasons), and the figures behind them. */
  health(): { ok: boolean; reasons: string[]; uplinkConnected: boolean; spooledBatches: number; activeSeries: number } {
    const { uplink, spool } = this.options.config;
    const now = this.clock.now();
    const waiting = this.uplink.waiting(now);
    const spoolFill = spool.type === 'memory' ? this.queue.size / spool.maxBatches : this.queue.bytes / spool.maxSpoolBytes;
    const reasons = agentHealthReasons({ uplinkDownSinceMs: waiting.downSinceMs, oldestUnackedMs: waiting.oldestUnackedMs, ackTimeoutMs: uplink.ackTimeoutMs, spoolFill, spoolOnFull: spool.onFull }, now);
    return { ok: reasons.length === 0, reasons, uplinkConnected: this.uplink.isConnected, spooledBatches: this.uplink.queued, activeSeries: this.windows.activeSeries };
  }

  async start(): Promise<void> {
    this.restoreOpenWindows();
    this.uplink.start();
    for (const source of this.sources) await source.start();
    this.tickTimer = setInterval(() => this.batcher.tick(this.clock.now()), TICK_MS);
    this.reportTimer = setInterval(() => this.reportProblems(), this.options.config.reportIntervalMs);
    this.log.info({ sources: this.sources.map((s) => s.name) }, 'agent started');
  }

  /** Resolves when every source can receive (each MQTT source has subscribed). */
  async ready(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.ready?.()));
  }

  /**
   * Stops reading, flushes every open window into a last batch and waits up to `drainTimeoutMs`
   * for the cloud to ack everything queued. Nothing is emitted after this resolves.
   */
  async stop(drainTimeoutMs = 10_000): Promise<{ drained: boolean }> {
    for (const source of this.sources) await source.stop();
    clearInterval(this.tickTimer);
    clearInterval(this.reportTimer);
    this.flushed = [];
    this.windows.flush();
    this.saveOpenWindows(this.flushed);
    this.flushed = undefined;
    this.batcher.flush();
    const drained = await this.uplink.drain(drainTimeoutMs);
    if (!drained) this.log.warn({ queued: this.uplink.queued }, 'stopping with batches the cloud has not acked');
    await this.uplink.stop();
    this.reportProblems();
    return { drained };
  }

  private onWindow(window: WindowResult): void {
    this.counters.inc('windows_emitted');
    this.flushed?.push(window);
    this.batcher.add(window, this.clock.now());
  }

  /** Windows the final flush emits while still open: saved at stop, restored at the next start. */
  private flushed: WindowResult[] | undefined;
  /** Windows restored at start from the previous run's flush. */
  restoredWindows = 0;

  private get openWindowsFile(): string {
    return join(this.options.stateDir ?? this.options.config.stateDir, 'open-windows.json');
  }

  /** Takes back the windows the previous run flushed while open (see WindowEngine.restore). */
  private restoreOpenWindows(): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(this.openWindowsFile, 'utf8'));
    } catch {
      return; // none saved (first start, or a crash: open windows are lost then, and not spooled)
    }
    rmSync(this.openWindowsFile, { force: true });
    const windows = (Array.isArray(saved) ? saved : []).filter((w) => WindowResultSchema.safeParse(w).success) as WindowResult[];
    // Windows older than a day are history: a new point would not complete them but replace them.
    const recent = windows.filter((w) => w.end > this.clock.now() - 86_400_000);
    this.restoredWindows = this.windows.restore(recent);
    if (this.restoredWindows > 0) this.log.info({ windows: this.restoredWindows }, 'took back the windows the last stop flushed while open');
  }

  private saveOpenWindows(windows: readonly WindowResult[]): void {
    if (windows.length === 0) return;
    try {
      mkdirSync(dirname(this.openWindowsFile), { recursive: true });
      writeFileSync(`${this.openWindowsFile}.tmp`, JSON.stringify(windows));
      renameSync(`${this.openWindowsFile}.tmp`, this.openWindowsFile);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'cannot save the open windows; after the restart they will be sent again partial');
    }
  }

  private seal(windows: WindowResult[]): void {
    const { agentId, site } = this.options.config;
    const seq = this.uplink.nextSeq();
    const envelope = { v: BATCH_FORMAT_VERSION, agent: agentId, ...(site === undefined ? {} : { site }), epoch: this.uplink.epoch, seq, sentAt: this.clock.now(), ...(Number.isFinite(this.windows.complete) ? { watermark: this.windows.complete } : {}), windows, counters: this.counters.snapshot() };
    let readings = 0;
    for (const w of windows) if (w.rev === 0) readings += w.count;
    this.counters.inc('batches_sealed');
    this.uplink.enqueue({ seq, windows: windows.length, readings }, encodeBatch(envelope));
  }

  /** The disk spool (reporting what it recovered) or the in-memory queue. */
  private openQueue(stateDir: string): BatchQueue {
    const spool = this.options.config.spool;
    if (spool.type === 'memory') return new MemoryBatchQueue(spool.maxBatches, spool.onFull, new SeqStore(join(stateDir, 'seq.json')));
    const disk = new DiskSpool({ ...spool, dir: spool.dir ?? join(stateDir, 'spool'), onBackgroundError: (err) => this.problems.note('spool_io_error', `spool ${spool.dir ?? join(stateDir, 'spool')}: ${err.message}`) });
    const r = disk.recovery;
    if (r.tornRecords > 0) {
      this.counters.inc('spool_torn_records', r.tornRecords);
      this.log.warn({ tornRecords: r.tornRecords, tornBytes: r.tornBytes, problems: r.problems }, 'spool: skipped damaged records (torn writes)');
    }
    if (r.seqsSkipped > 0) this.log.warn({ seqsSkipped: r.seqsSkipped }, 'spool: unclean stop with interval fsync; skipping seqs that may have been sent');
    if (r.unacked > 0) this.log.info({ batches: r.unacked }, 'spool: re-sending batches the cloud had not acked');
    return disk;
  }

  /** One log line per reason of skipped input per interval, with an example. */
  private reportProblems(): void {
    for (const p of this.problems.drain()) this.log.warn({ reason: p.reason, count: p.count, example: p.example }, 'skipped input');
  }
}
