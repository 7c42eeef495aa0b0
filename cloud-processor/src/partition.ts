import { availableParallelism } from 'node:os';
import type { AlertEvent, ProcessorConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import { AlertLifecycle } from './alerts/lifecycle.js';
import { Dedupe } from './state/dedupe.js';
import { detectorPlans } from './detect/registry.js';
import { LocalDetection, type DetectionRunner } from './detect/detection-runner.js';
import { Detection } from './detect/detection.js';
import { PointEncoder } from '@tributary/storage';
import { JudgedWindows } from './state/judged-windows.js';
import type { Outputs } from './outputs.js';
import { BatchProcessor, type BatchProcessorOptions } from './processor.js';
import { DetectionPool, workerResourceLimits } from './detect/shards/pool.js';
import { ShardedDetection } from './detect/shards/sharded-detection.js';

/**
 * The state one stream of batches is judged with, and the processor that runs it: dedupe per
 * agent, detection per series (and device) with its alert lifecycle. The single processor has
 * one; a cluster member has one per partition it owns, snapshotted and restored through these
 * classes' own snapshot/restore.
 */
export interface PartitionState {
  readonly dedupe: Dedupe;
  /** In this thread, or over the processor's detection workers (one pool for all its partitions). */
  readonly detection: DetectionRunner;
  readonly processor: BatchProcessor;
}

export interface PartitionBounds {
  /** Series with detector state (and the config key that sets it, for the report). */
  readonly maxSeries: number;
  readonly maxSeriesKey: string;
}

/**
 * Fresh state for one partition; its alert transitions go to `onAlert` once their batch is
 * durable. With a `pool`, its series are spread over the pool's worker threads. `observers` see
 * each batch once it is durable (the dashboard's fleet view, the latency histograms).
 */
export function createPartition(
  config: ProcessorConfig,
  outputs: Outputs,
  bounds: PartitionBounds,
  onAlert: (alert: AlertEvent) => void,
  pool?: DetectionPool,
  observers: Pick<BatchProcessorOptions, 'onWritten' | 'latency'> = {},
): PartitionState {
  const onDropped = (device: string, metric: string, detector: string): void =>
    outputs.alertDropped(device, metric, detector);
  const onEvicted = (): void => outputs.seriesEvicted(bounds.maxSeries, bounds.maxSeriesKey);
  const dedupe = new Dedupe(config.dedupe.windowSize, config.dedupe.maxAgents, config.dedupe.maxSeqGap);
  // Validated here in any case: a bad detector setting stops the start, naming the key.
  const plans = detectorPlans(config.detection);
  const onMetricsLeftOut = (device: string, count: number, first: string): void =>
    outputs.machineMetricsLeftOut(device, count, first);
  let detection: DetectionRunner;
  if (pool === undefined) {
    const alerts = new AlertLifecycle(config.alerts, onDropped);
    detection = new LocalDetection(
      new Detection(plans, alerts, bounds.maxSeries, onEvicted, undefined, onMetricsLeftOut),
      alerts,
    );
  } else {
    detection = new ShardedDetection(pool, {
      detection: config.detection,
      alerts: config.alerts,
      maxSeries: bounds.maxSeries,
      maxQueuedBatches: config.detection.maxQueuedBatches,
      onEvicted,
      onDropped,
      onMetricsLeftOut,
    });
  }
  const processor = new BatchProcessor({
    maxBatchBytes: config.maxBatchBytes,
    dedupe,
    detection,
    writer: outputs.writer,
    encoder: new PointEncoder(config.influx.units),
    judged: new JudgedWindows(config.detection.maxJudgedWindows),
    deadLetter: outputs.deadLetter,
    counters: outputs.counters,
    problems: outputs.problems,
    onAlert,
    onTrackedApart: (what) => outputs.trackedApart(what),
    ...observers,
  });
  return { dedupe, detection, processor };
}

/**
 * The detection worker threads of a processor (all its partitions share them): detection.workers,
 * by default as many as the cores it may use; undefined for 0 (detection in the event loop's thread).
 * `partitions`: how many partitions' series they may hold at most (each up to detection.maxSeries),
 * which sizes their heaps (workerResourceLimits, unless detection.workerHeapLimit is `v8`); a
 * cluster member's is not known ahead (Infinity).
 */
export function detectionPool(
  config: ProcessorConfig,
  outputs: Outputs,
  log: Logger,
  partitions = 1,
): DetectionPool | undefined {
  const workers = config.detection.workers ?? availableParallelism();
  if (workers === 0) return undefined;
  const seriesPerWorker =
    config.detection.workerHeapLimit === 'v8'
      ? Number.POSITIVE_INFINITY
      : Math.ceil((partitions * config.detection.maxSeries) / workers);
  return new DetectionPool(
    workers,
    log.child({ unit: 'detection' }),
    (worker, reason) => {
      outputs.counters.inc('detection_workers_restarted');
      outputs.problems.note(
        'detection_worker_restarted',
        `detection worker ${worker}: ${reason}; started again, its series start afresh`,
      );
    },
    workerResourceLimits(seriesPerWorker),
  );
}
