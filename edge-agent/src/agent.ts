import { join } from 'node:path';
import { DiskWalConfig, type AgentConfig, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ProblemReport, ProcessMetrics, systemClock, type Clock, type Logger } from '@tributary/runtime';
import { Batcher } from './core/batcher.js';
import { agentHealthReasons } from './health.js';
import { FilterChains } from './core/filters/registry.js';
import { agentCounterHelp, IngestPipeline, type AgentCounter, type LoggedMessages } from './core/pipeline.js';
import { WindowEngine, windowEngineOptions } from './core/window-engine.js';
import { OpenWindowsFile } from './open-windows.js';
import { Sealer } from './sealing.js';
import { MqttSource } from './sources/mqtt.js';
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
import { recover } from './wal/recovery.js';
import { WriteAheadLog } from './wal/write-ahead-log.js';

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
  tls: 'broker_tls_refused',
  protocol: 'broker_protocol_refused',
  login: 'broker_logins_refused',
  subscription: 'broker_subscriptions_refused',
  'subscriber-queue': 'broker_subscriber_drops',
};

/** How often device clocks are moved on, batches are sealed by age and `complete` advances. */
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
  /** The receiver write-ahead log, unless configured off (see DiskWalConfig). */
  readonly wal: WriteAheadLog | undefined;
  private readonly batcher: Batcher;
  private readonly sealer: Sealer;
  private readonly spool: DiskSpool | undefined;
  private readonly openWindows: OpenWindowsFile;
  /** Set at start from the log: messages a broker may deliver again after a crash. */
  private logged: LoggedMessages | undefined;
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
      windowEngineOptions(w),
      {
        window: (window) => this.onWindow(window),
        evicted: () => this.counters.inc('series_evicted'),
        outOfRangeOnly: () => this.counters.inc('windows_out_of_range_only'),
        deviceForgotten: () => this.counters.inc('device_clocks_forgotten'),
      },
    );
    const stateDir = options.stateDir ?? config.stateDir;
    this.openWindows = new OpenWindowsFile(join(stateDir, 'open-windows.json'));
    this.wal = this.openWal(stateDir);
    this.pipeline = new IngestPipeline({
      filters: new FilterChains(config.filters, { stateEvicted: () => this.counters.inc('filter_state_evicted') }),
      windows: this.windows,
      clock: this.clock,
      maxFutureMs: w.maxFutureMs,
      maxMessagesPerS: config.intake.maxMessagesPerS,
      burstMessages: config.intake.burstMessages,
      counters: this.counters,
      problems: this.problems,
      log: this.wal,
      logged: { has: (origin, t) => this.logged?.has(origin, t) ?? false },
    });
    const queue = this.openQueue(stateDir);
    this.queue = queue;
    this.spool = queue instanceof DiskSpool ? queue : undefined;
    this.prometheus = new ProcessMetrics('tributary_agent', { agent: config.agentId });
    const ackLatency = this.prometheus.latency('batch_sealed_to_acked', "from a batch's append to the spool to the cloud's ack (ok or duplicate), batches of this run");
    const uplinkLog = this.log.child({ unit: 'uplink' });
    const transport: UplinkTransport =
      config.uplink.type === 'mqtt' ? new MqttUplinkTransport(config.uplink, config.agentId, this.clock, uplinkLog) : new HttpUplinkTransport(config.uplink, config.agentId, uplinkLog);
    this.uplink = new Delivery(queue, transport, config.uplink, this.counters, this.problems, this.clock, uplinkLog, ackLatency);
    this.sealer = new Sealer({ config, windows: this.windows, uplink: this.uplink, wal: this.wal, counters: this.counters, clock: this.clock, sealGathered: () => this.batcher.flush() });
    this.batcher = new Batcher(config.batch.maxWindows, config.batch.maxDelayMs, (windows) => this.sealer.sealed(windows));
    const wal = this.wal;
    this.sources = config.sources.map((s, i) =>
      createSource(s, {
        pipeline: this.pipeline,
        log: this.log.child({ unit: 'source', source: s.name ?? s.type }),
        instanceId: `tributary-agent-${config.agentId}-src${i}`,
        at: `sources[${i}]`,
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
        // Its broker may now deliver what it held: no device is idle for the time it was away.
        reconnected: () => this.windows.resume(this.clock.now()),
        index: i,
        ackAfterLog: wal === undefined ? undefined : (release) => wal.afterCommit(release),
      }),
    );
    this.counters.gauge('active_series', () => this.windows.activeSeries);
    this.counters.gauge('device_clocks', () => this.windows.devices);
    this.counters.gauge('queued_batches', () => this.uplink.queued);
    this.counters.gauge('spool_bytes', () => queue.bytes);
    this.counters.gauge('process_resident_memory_bytes', () => process.memoryUsage.rss());
    this.counters.gauge('inflight_batches', () => this.uplink.inFlight);
    if (wal !== undefined) this.counters.gauge('wal_bytes', () => wal.bytes);
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
    this.recoverFromLog();
    this.restoreOpenWindows();
    // What a broker held while the agent was away comes now: no device is idle for that time.
    this.windows.resume(this.clock.now());
    this.uplink.start();
    for (const source of this.sources) await source.start();
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.reportTimer = setInterval(() => this.reportProblems(), this.options.config.reportIntervalMs);
    this.log.info({ sources: this.sources.map((s) => s.name) }, 'agent started');
  }

  private lastTick = { messages: 0, windows: 0 };

  /**
   * The timer: idle devices' windows close (see WindowEngine.tick) and batches are sealed by age.
   * Windows the tick closed while no message came in since the last one are sealed at once: the
   * gateway has gone quiet, and they already waited idleAfterMs; under a steady trickle they wait
   * for the batch as any window does (fewer, fuller batches: fewer flash writes).
   */
  private tick(): void {
    const now = this.clock.now();
    const messages = this.counters.get('messages_received');
    this.windows.tick(now);
    const windows = this.counters.get('windows_emitted');
    if (windows > this.lastTick.windows && messages === this.lastTick.messages) this.batcher.flush();
    else this.batcher.tick(now);
    this.sealer.drain();
    this.lastTick = { messages, windows };
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
    this.sealer.drain();
    // Every reading is in a spooled batch now (and the open windows in their file).
    this.wal?.reset();
    const drained = await this.uplink.drain(drainTimeoutMs);
    if (!drained) this.log.warn({ queued: this.uplink.queued }, 'stopping with batches the cloud has not acked');
    await this.uplink.stop();
    this.wal?.close();
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

  /** Takes back the windows the previous run flushed while open (see WindowEngine.restore), logging them. */
  private restoreOpenWindows(): void {
    const windows = this.openWindows.take(this.clock.now());
    if (windows.length === 0) return;
    this.wal?.restored(JSON.stringify(windows));
    this.restoredWindows = this.windows.restore(windows);
    if (this.restoredWindows > 0) this.log.info({ windows: this.restoredWindows }, 'took back the windows the last stop flushed while open');
  }

  private saveOpenWindows(windows: readonly WindowResult[]): void {
    try {
      this.openWindows.save(windows);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'cannot save the open windows; after the restart they will be sent again partial');
    }
  }

  /** The write-ahead log as configured (by default on disk when the spool is). */
  private openWal(stateDir: string): WriteAheadLog | undefined {
    const { wal: configured, spool } = this.options.config;
    const wal = configured ?? (spool.type === 'disk' ? DiskWalConfig.parse({ type: 'disk' }) : { type: 'none' as const });
    if (wal.type === 'none') return undefined;
    const log = new WriteAheadLog({ ...wal, dir: wal.dir ?? join(stateDir, 'wal') }, (readings, reason) => {
      this.counters.inc('wal_readings_unprotected', readings);
      this.problems.note('wal_unprotected', reason);
    });
    const o = log.opening;
    if (o.tornRecords > 0) {
      this.counters.inc('wal_torn_records', o.tornRecords);
      this.log.warn({ tornRecords: o.tornRecords, problems: o.problems }, 'write-ahead log: cut off damaged records (torn writes; not acknowledged, so sent again)');
    }
    return log;
  }

  /**
   * After a crash: puts the readings of windows not yet spooled back from the write-ahead log (see
   * recover) and seals what that closes, before any source starts.
   */
  private recoverFromLog(): void {
    const wal = this.wal;
    if (wal === undefined || wal.opening.bytes === 0) return;
    const r = recover(wal, this.windows, this.spool?.recovery.appendedBelow ?? 0);
    this.logged = r.logged;
    this.batcher.flush();
    this.sealer.drain();
    if (r.readings > 0) this.counters.inc('readings_recovered', r.readings);
    if (r.lost > 0) this.counters.inc('readings_lost_at_crash', r.lost);
    this.log.info({ readings: r.readings, lost: r.lost, afterBatch: r.resumedAfter ?? null, walBytes: wal.opening.bytes }, 'write-ahead log: put back the readings of windows not yet spooled');
    if (r.lost > 0) this.log.warn({ readings: r.lost }, 'write-ahead log: readings that corrected windows already spooled could not be put back (lost at the crash)');
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
    for (const p of this.problems.drain()) {
      if (p.reason === 'clock_ahead') this.log.warn({ messages: p.count, example: p.example }, 'device clock ahead of the agent clock (its windows close by its own clock)');
      else if (p.reason === 'wal_unprotected') this.log.warn({ times: p.count, example: p.example }, 'readings accepted but not in the write-ahead log: a crash before they are spooled loses them');
      else this.log.warn({ reason: p.reason, count: p.count, example: p.example }, 'skipped input');
    }
  }
}
