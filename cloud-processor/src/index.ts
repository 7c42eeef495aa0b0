export { CloudProcessor, type CloudOptions } from './cloud.js';
export { BatchProcessor } from './processor.js';
export { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
export { Dedupe } from './dedupe.js';
export { AlertLifecycle, severityOf } from './alerts/lifecycle.js';
export { InfluxWriter } from './influx/writer.js';
export { loadProcessorConfig } from './config.js';
export * from './detect/detector.js';
export { detectors } from './detect/registry.js';
