export { CloudProcessor, type CloudOptions } from './cloud.js';
export { ClusterProcessor } from './cluster/cluster-processor.js';
export { createProcessor, processorModes, processorModeOf, type ProcessorMode } from './modes.js';
export {
  natsServerConfig,
  batchMapping,
  STREAM,
  LEASES_BUCKET,
  CHECKPOINTS_BUCKET,
  SNAPSHOTS_BUCKET,
} from './cluster/subjects.js';
export { planLeases, targetShare } from './cluster/assignment.js';
export { CheckpointStore, FencedError } from './cluster/store.js';
export { LeaseTable } from './cluster/leases.js';
export { ensureStores } from './cluster/streams.js';
export { BatchProcessor } from './processor.js';
export { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
export { Dedupe } from './state/dedupe.js';
export { JudgedWindows } from './state/judged-windows.js';
export { AlertLifecycle, severityOf, openThreshold } from './alerts/lifecycle.js';
export {
  Detection,
  MACHINE,
  MISSING_DATA,
  OUT_OF_RANGE,
  type SeriesInput,
  type DetectionSnapshot,
} from './detect/detection.js';
export { LocalDetection, type DetectionRunner } from './detect/detection-runner.js';
export { DetectionPool } from './detect/shards/pool.js';
export { ShardedDetection } from './detect/shards/sharded-detection.js';
export { InfluxWriter, WriteAbortedError, type WriteReport, type WriterStatus } from './influx/writer.js';
export { PointEncoder, windowStddev, type EncodedBatch, type UnencodablePoint } from '@tributary/storage';
export { LineBuilder, escapeKey, escapeMeasurement, quoteString } from '@tributary/storage';
export {
  DeadLetterFile,
  type DeadLetterRecord,
  type DeadLetterEntry,
  type RefusedPointRecord,
  type UnencodablePointRecord,
  type FailedBatchRecord,
} from './influx/dead-letter.js';
export { createTarget, targets } from './influx/targets.js';
export type { WriteTarget } from './influx/target.js';
export * from './influx/errors.js';
export { classifyWrite } from './influx/response.js';
export { Intake, Pipelined } from './ingest/intake.js';
export { loadProcessorConfig } from './config.js';
export * from './detect/detector.js';
export * from './detect/registry.js';
export { TailCalibrator, SurpriseMeter, CalibrationConfig } from './detect/stats/tail-calibrator.js';
/** For bench/cloud/state-size (where a series' bytes go): the slab and the member factories it attributes regions by. */
export { Slab } from './detect/stats/slab.js';
export { MEMBERS } from './detect/detectors/members.js';
export { prng, gaussian } from './detect/synthetic.js';
export * from './replay/csv.js';
export { replay, type ReplayResult } from './replay/replay.js';
export {
  csvPoints,
  csvSeriesNames,
  fromCsvFiles,
  fromInflux,
  type InfluxSelection,
  type ReplayInput,
} from './replay/sources.js';
