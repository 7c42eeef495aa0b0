import type { AgentConfig } from '@tributary/firmware-schemas';
import { ProcessMetrics, systemClock, type Clock, type Counters, type Logger } from '@tributary/runtime';
import { ackLatency, exposeAgentMetrics } from './agent-metrics.js';
import { AgentReport } from './agent-report.js';
import { Batching } from './batching.js';
import { countedWindowSink, IngestPipeline, ingestPipelineOptions, type AgentCounter } from './core/pipeline.js';
import { WindowEngine, windowEngineOptions } from './core/window-engine.js';
import { DurableState } from './durable-state.js';
import { agentHealth, type AgentHealth } from './health.js';
import { createSources } from './sources/context.js';
import type { Source } from './sources/source.js';
import type { BatchQueue } from './spool/batch-queue.js';
import { createSpool } from './spool/registry.js';
import type { Delivery } from './uplink/delivery.js';
import { createUplink } from './uplink/registry.js';
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

  constructor(private readonly options: AgentOptions) {
    const { config } = options;
    const clock = (this.clock = options.clock ?? systemClock);
    const log = (this.log = options.log);
    const stateDir = options.stateDir ?? config.stateDir;
    const report = (this.report = new AgentReport(log));
    const counters = report.counters;
    const windows = (this.windows = new WindowEngine(
      windowEngineOptions(config.windows),
      countedWindowSink(counters, (window) => this.batching.window(window)),
    ));
    const wal = createWal(config, {
      stateDir,
      unprotected: (readings, reason) => report.walUnprotected(readings, reason),
    });
    const queue = (this.queue = createSpool(config.spool, {
      stateDir,
      backgroundError: (example) => report.problems.note('spool_io_error', example),
    }));
    this.prometheus = new ProcessMetrics('tributary_agent', { agent: config.agentId });
    const uplink = (this.uplink = createUplink(config.uplink, {
      agentId: config.agentId,
      queue,
      counters,
      problems: report.problems,
      clock,
      log: log.child({ unit: 'uplink' }),
      ackLatency: ackLatency(this.prometheus),
    }));
    const batching = (this.batching = new Batching({ config, windows, uplink, wal, counters, clock }));
    this.state = new DurableState({ stateDir, wal, uplink, windows, batching, report, clock, log });
    this.pipeline = new IngestPipeline(
      ingestPipelineOptions(config, {
        windows,
        clock,
        counters,
        problems: report.problems,
        log: wal,
        logged: this.state.logged,
      }),
    );
    this.sources = createSources({
      config,
      pipeline: this.pipeline,
      log,
      stateDir,
      report,
      // Its broker may now deliver what it held: no device is idle for the time it was away.
      reconnected: () => windows.resume(clock.now()),
      wal,
    });
    exposeAgentMetrics(this.prometheus, counters, { windows, uplink, queue, wal });
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
    this.report.start(this.options.config.reportIntervalMs);
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
    this.report.stop();
    const drained = await this.state.close(drainTimeoutMs);
    this.report.logProblems();
    return { drained };
  }
}
