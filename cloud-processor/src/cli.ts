#!/usr/bin/env node
/**
 * tributary-cloud [--config processor.yaml]
 *
 * Runs the cloud processor (embedded MQTT broker by default; a member of a NATS JetStream cluster
 * when the config has `cluster:`) until SIGINT or SIGTERM. Without a config file every default
 * applies. A bad config names each bad key and value and exits with 2.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { CloudProcessor } from './cloud.js';
import { ClusterProcessor } from './cluster/cluster-processor.js';
import { loadProcessorConfig } from './config.js';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const loaded = loadProcessorConfig(values.config);
if (!loaded.ok) {
  process.stderr.write(`tributary-cloud: invalid config ${values.config ?? '(defaults)'}: ${loaded.error.message}\n`);
  process.exit(2);
}
const log = pino({ level: loaded.value.log.level });
const cloud = loaded.value.cluster === undefined ? new CloudProcessor({ config: loaded.value, log }) : new ClusterProcessor({ config: loaded.value, log });
await cloud.start();

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  await cloud.stop();
  log.info({ counters: cloud.counters.snapshot() }, 'cloud processor stopped');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
