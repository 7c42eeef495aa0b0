import type { AlertEvent, ProcessorConfig } from '@tributary/firmware-schemas';
import { AlertLifecycle } from './alerts/lifecycle.js';
import { Dedupe } from './state/dedupe.js';
import { detectorPlans } from './detect/registry.js';
import { Detection } from './detect/detection.js';
import { PointEncoder } from '@tributary/storage';
import { JudgedWindows } from './state/judged-windows.js';
import type { Outputs } from './outputs.js';
import { BatchProcessor, type BatchProcessorOptions } from './processor.js';

/**
 * The state one stream of batches is judged with, and the processor that runs it: dedupe per
 * agent, detection per series with its alert lifecycle. The single processor has one; a cluster
 * member has one per partition it owns, snapshotted and restored through these classes' own
 * snapshot/restore.
 */
export interface PartitionState {
  readonly alerts: AlertLifecycle;
  readonly dedupe: Dedupe;
  readonly detection: Detection;
  readonly processor: BatchProcessor;
}

export interface PartitionBounds {
  /** Series with detector state (and the config key that sets it, for the report). */
  readonly maxSeries: number;
  readonly maxSeriesKey: string;
}

/** Fresh state for one partition; its alert transitions go to `onAlert` once their batch is durable. */
export function createPartition(
  config: ProcessorConfig,
  outputs: Outputs,
  bounds: PartitionBounds,
  onAlert: (alert: AlertEvent) => void,
  observers: Pick<BatchProcessorOptions, 'onWritten' | 'latency'> = {},
): PartitionState {
  const alerts = new AlertLifecycle(config.alerts, (device, metric, detector) => outputs.alertDropped(device, metric, detector));
  const dedupe = new Dedupe(config.dedupe.windowSize, config.dedupe.maxAgents, config.dedupe.maxSeqGap);
  const detection = new Detection(
    detectorPlans(config.detection),
    alerts,
    bounds.maxSeries,
    () => outputs.seriesEvicted(bounds.maxSeries, bounds.maxSeriesKey),
    undefined,
    (device, count, first) => outputs.machineMetricsLeftOut(device, count, first),
  );
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
  return { alerts, dedupe, detection, processor };
}
