import type { AgentConfig } from '@tributary/firmware-schemas';
import { ProcessMetrics, systemClock, type Clock, type Counters, type Logger } from '@tributary/runtime';
import { ackLatency, exposeAgentMetrics } from './agent-metrics.js';
import { AgentReport } from './agent-report.js';
import { Batching } from './batching.js';
import { FilterChains } from './core/filters/registry.js';
import { IngestPipeline, type AgentCounter } from './core/pipeline.js';
import { WindowEngine, windowEngineOptions } from './core/window-engine.js';
import { DurableState } from './durable-state.js';
import { agentHealth, type AgentHealth } from './health.js';
import { createSources } from './sources/context.js';
import type { Source } from './sources/source.js';
import type { BatchQueue } from './spool/batch-queue.js';
import { createSpool } from './spool/registry.js';
import { Delivery } from './uplink/delivery.js';
import { createUplinkTransport } from './uplink/registry.js';
import { createWal } from './wal/registry.js';

export interface AgentOptions {
  readonly config: AgentConfig;
  /** Directory for the agent's durable state (spool, seq); config.stateDir when omitted. */
  readonly stateDir?: string;
  /** Every line of the agent and its units goes here, with what the caller bound (the CLI binds `agent`, once). */
  readonly log: Logger;
  readonly clock?: Clock;
}

/**
 * The edge agent: sources → pipeline (decode, validate, filter, window) → batching → spool →
 * uplink. Lifecycle: construct (validates, opens nothing) → start → stop (flushes open windows and
 * waits for the cloud to ack what it can before closing). This file only wires the units: the
 * kinds of source, spool, uplink and write-ahead log are chosen by their registries.
 */
export class EdgeAgent {
  readonly windows: WindowEngine;
  readonly pipeline: IngestPipeline;
  readonly uplink: Delivery;
  readonly sources: Source[];
  /** /metrics: the counters and gauges (labelled with the agent id) and the sealed → acked latency. */
  readonly prometheus: ProcessMetrics;
  private readonly report: AgentReport;
  private readonly queue: BatchQueue;
  private readonly batching: Batching;
  private readonly state: DurableState;
  private readonly clock: Clock;
  private readonly log: Logger;
  private reportTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AgentOptions) {
    const { config } = options;
    const clock = (this.clock = options.clock ?? systemClock);
    const log = (this.log = options.log);
    const stateDir = options.stateDir ?? config.stateDir;
    const report = (this.report = new AgentReport(log));
    const counters = report.counters;
    this.windows = new WindowEngine(windowEngineOptions(config.windows), {
      window: (window) => this.batching.window(window),
      evicted: () => counters.inc('series_evicted'),
      outOfRangeOnly: () => counters.inc('windows_out_of_range_only'),
      deviceForgotten: () => counters.inc('device_clocks_forgotten'),
    });
    const wal = createWal(config, {
      stateDir,
      unprotected: (readings, reason) => report.walUnprotected(readings, reason),
    });
    this.pipeline = new IngestPipeline({
      filters: new FilterChains(config.filters, { stateEvicted: () => counters.inc('filter_state_evicted') }),
      windows: this.windows,
      clock,
      maxFutureMs: config.windows.maxFutureMs,
      maxMessagesPerS: config.intake.maxMessagesPerS,
      burstMessages: config.intake.burstMessages,
      counters,
      problems: report.problems,
      log: wal,
      logged: { has: (origin, t) => this.state.logged.has(origin, t) },
    });
    this.queue = createSpool(config.spool, {
      stateDir,
      backgroundError: (example) => report.problems.note('spool_io_error', example),
    });
    this.prometheus = new ProcessMetrics('tributary_agent', { agent: config.agentId });
    const uplinkLog = log.child({ unit: 'uplink' });
    const transport = createUplinkTransport(config.uplink, { agentId: config.agentId, clock, log: uplinkLog });
    this.uplink = new Delivery(
      this.queue,
      transport,
      config.uplink,
      counters,
      report.problems,
      clock,
      uplinkLog,
      ackLatency(this.prometheus),
    );
    this.batching = new Batching({ config, windows: this.windows, uplink: this.uplink, wal, counters, clock });
    this.state = new DurableState({
      stateDir,
      wal,
      uplink: this.uplink,
      windows: this.windows,
      batching: this.batching,
      report,
      clock,
      log,
    });
    this.sources = createSources({
      config,
      pipeline: this.pipeline,
      log,
      stateDir,
      count: (counter) => counters.inc(counter),
      report: (counter, example, by) => report.note(counter, example, by),
      // Its broker may now deliver what it held: no device is idle for the time it was away.
      reconnected: () => this.windows.resume(clock.now()),
      ackAfterLog: wal === undefined ? undefined : (release) => wal.afterCommit(release),
    });
    exposeAgentMetrics(this.prometheus, counters, {
      windows: this.windows,
      uplink: this.uplink,
      queue: this.queue,
      wal,
    });
  }

  get counters(): Counters<AgentCounter> {
    return this.report.counters;
  }

  /** Windows taken back at start from the previous run's flush. */
  get restoredWindows(): number {
    return this.state.restoredWindows;
  }

  /** For /health: ok, or each reason it is not (see agentHealthReasons), and the figures behind them. */
  health(): AgentHealth {
    return agentHealth(
      this.options.config,
      { uplink: this.uplink, queue: this.queue, activeSeries: this.windows.activeSeries },
      this.clock.now(),
    );
  }

  /** Opens the durable state (recovering what a crash left) before any source starts. */
  async start(): Promise<void> {
    this.state.open();
    // What a broker held while the agent was away comes now: no device is idle for that time.
    this.windows.resume(this.clock.now());
    this.uplink.start();
    for (const source of this.sources) await source.start();
    this.batching.start();
    this.reportTimer = setInterval(() => this.report.logProblems(), this.options.config.reportIntervalMs);
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
    this.batching.stop();
    clearInterval(this.reportTimer);
    this.state.flush();
    const drained = await this.uplink.drain(drainTimeoutMs);
    if (!drained) this.log.warn({ queued: this.uplink.queued }, 'stopping with batches the cloud has not acked');
    await this.uplink.stop();
    this.state.close();
    this.report.logProblems();
    return { drained };
  }
}
