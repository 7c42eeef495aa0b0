export { EdgeAgent, type AgentOptions } from './agent.js';
export { WindowEngine, type AddOutcome, type WindowEngineOptions } from './core/window-engine.js';
export { addReading, emptyAggregate, mergeInto, variance, type Aggregate } from './core/aggregate.js';
export { IngestPipeline, agentCounterHelp, type AgentCounter } from './core/pipeline.js';
export { FilterChains, createFilter } from './core/filters/registry.js';
export { Batcher } from './core/batcher.js';
export { loadAgentConfig } from './config.js';
export { DiskSpool, spoolBytesOnDisk, type DiskSpoolOptions, type SpoolRecovery } from './spool/disk-spool.js';
export { decodeRecordAt, encodeRecord, RECORD_HEADER_BYTES } from './spool/record.js';
