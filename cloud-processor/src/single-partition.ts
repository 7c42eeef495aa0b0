import type { ProcessorConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import type { DetectionPool } from './detect/shards/pool.js';
import type { Outputs } from './outputs.js';
import { createPartition, detectionPool, type PartitionState } from './partition.js';
import type { BatchProcessorOptions } from './processor.js';
import { LocalState } from './state/local-state.js';

/**
 * The single processor's one partition of state (partition.ts): judged in the event loop's thread
 * or over the detection worker threads (detection.workers; they start on first use), and kept in
 * stateDir (state/local-state.ts). Lifecycle: construct (opens and reads nothing) → `restore` and
 * `startSaving` at start → `stopSaving`, then `close` at stop (a last save; the threads end). A
 * start that fails calls `endThreads`, so threads never keep the process alive.
 */
export class SinglePartition implements PartitionState {
  readonly dedupe: PartitionState['dedupe'];
  readonly detection: PartitionState['detection'];
  readonly processor: PartitionState['processor'];
  private readonly pool: DetectionPool | undefined;
  private readonly state: LocalState;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly config: ProcessorConfig,
    outputs: Outputs,
    log: Logger,
    observers: Pick<BatchProcessorOptions, 'onWritten' | 'latency'>,
  ) {
    this.pool = detectionPool(config, outputs, log);
    const bounds = { maxSeries: config.detection.maxSeries, maxSeriesKey: 'detection.maxSeries' };
    ({
      dedupe: this.dedupe,
      detection: this.detection,
      processor: this.processor,
    } = createPartition(config, outputs, bounds, (alert) => outputs.publish(alert), this.pool, observers));
    this.state = new LocalState(config.stateDir, this, log);
  }

  /** Reads the state files, before any batch is taken (see LocalState.restore). */
  restore(): Promise<void> {
    return this.state.restore();
  }

  /** Saves the dedupe state every dedupe.persistIntervalMs and a detector checkpoint every detection.checkpointIntervalMs. */
  startSaving(): void {
    this.timers.push(setInterval(() => this.state.saveDedupe(), this.config.dedupe.persistIntervalMs));
    this.timers.push(setInterval(() => void this.state.checkpoint(), this.config.detection.checkpointIntervalMs));
  }

  stopSaving(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Once no batch is taken any more: the last save, then detection and its threads end. */
  async close(): Promise<void> {
    await this.state.save();
    await this.detection.close();
    await this.endThreads();
  }

  /** Ends the detection worker threads (none if they never started). */
  async endThreads(): Promise<void> {
    await this.pool?.close();
  }
}
