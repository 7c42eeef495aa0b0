import { CloudProcessor, type CloudOptions } from './cloud.js';
import { ClusterProcessor } from './cluster/cluster-processor.js';

/**
 * How a processor takes its batches, by the config: `single` runs one partition of state beside
 * its broker (broker/registry.ts: the embedded aedes, or an external broker) and HTTP; `cluster`
 * (the config has `cluster:`) is one member of a NATS JetStream cluster sharing the fleet's
 * partitions (cluster/). Each is constructed without opening anything; `start()` does.
 */
export const processorModes = {
  single: (options: CloudOptions) => new CloudProcessor(options),
  cluster: (options: CloudOptions) => new ClusterProcessor(options),
} as const;

export type ProcessorMode = keyof typeof processorModes;

export function processorModeOf(config: CloudOptions['config']): ProcessorMode {
  return config.cluster === undefined ? 'single' : 'cluster';
}

/** The processor the config asks for. */
export function createProcessor(options: CloudOptions): CloudProcessor | ClusterProcessor {
  return processorModes[processorModeOf(options.config)](options);
}
