export { EdgeAgent, type AgentOptions } from './agent.js';
export { serveStatus } from './http.js';
export {
  WindowEngine,
  windowEngineOptions,
  type AddOutcome,
  type WindowEngineOptions,
  type WindowSink,
} from './core/window-engine.js';
export { addReading, emptyAggregate, mergeInto, variance, type Aggregate } from './core/aggregate.js';
export { QuantileSketch } from './core/sketch.js';
export {
  IngestPipeline,
  ingestPipelineOptions,
  countedWindowSink,
  agentCounterHelp,
  type AgentCounter,
} from './core/pipeline.js';
export { FilterChains, createFilter } from './core/filters/registry.js';
export { Batcher } from './core/batcher.js';
export { LineFramer, type Framed } from './sources/line-framer.js';
export { SerialSource } from './sources/serial.js';
export { FileSource } from './sources/file.js';
export { MqttBrokerSource } from './sources/mqtt-broker.js';
export { MosquittoSource, MosquittoStartError } from './sources/mosquitto/source.js';
export { MqttSource } from './sources/mqtt.js';
export { batchPubacks } from './sources/puback-batcher.js';
export { listSerialPorts } from './sources/serial-ports.js';
export { loadAgentConfig } from './config.js';
export { DiskSpool, spoolBytesOnDisk, type DiskSpoolOptions } from './spool/disk-spool.js';
export type { BatchQueue, SpoolRecovery } from './spool/batch-queue.js';
export { decodeRecordAt, encodeRecord, RECORD_HEADER_BYTES } from './spool/record.js';
export { WriteAheadLog, type WalOptions } from './wal/write-ahead-log.js';
