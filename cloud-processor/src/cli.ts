#!/usr/bin/env node
/**
 * Runs the cloud processor (embedded MQTT broker by default; a member of a NATS JetStream cluster
 * when the config has `cluster:`) until SIGINT or SIGTERM. Without a config file every default
 * applies. A bad command line or config names what is wrong and exits with 2.
 */
import { journalAware, parseCommandLine } from '@tributary/runtime';
import { pino } from 'pino';
import { loadProcessorConfig } from './config.js';
import { createProcessor } from './modes.js';

const USAGE = `usage: tributary-cloud [--config processor.yaml]

Receives the agents' batches (embedded MQTT broker by default, or an external one; HTTP), detects
anomalies, raises alerts and writes to InfluxDB, until SIGINT or SIGTERM.

  -c, --config FILE   the config, YAML or JSON (docs/configuration.md); without it every
                      default applies; keys can be overridden by TRIBUTARY_CLOUD_<KEY>__<KEY>=value
  -h, --help          prints this and exits

Exit status: 0 after a clean stop, 2 for a bad command line or config (TLS files
included), 1 when it cannot start otherwise.
`;

const { values } = parseCommandLine('tributary-cloud', USAGE, { options: { config: { type: 'string', short: 'c' } } });
const loaded = loadProcessorConfig(values.config);
if (!loaded.ok) {
  process.stderr.write(`tributary-cloud: invalid config ${values.config ?? '(defaults)'}: ${loaded.error.message}\n`);
  process.exit(2);
}
// Under systemd each line carries its journal priority (journalctl -p warning shows warnings).
const log = pino({ level: loaded.value.log.level }, journalAware(pino.destination(1)));
const cloud = createProcessor({ config: loaded.value, log });
try {
  await cloud.start();
} catch (err) {
  // A TLS file of the config that cannot be used is a bad config (2); anything else cannot start (1).
  const code = (err as { code?: unknown }).code;
  if (code === 'tls_config') {
    process.stderr.write(
      `tributary-cloud: invalid config ${values.config ?? '(defaults)'}: ${(err as Error).message}\n`,
    );
    process.exit(2);
  }
  process.stderr.write(
    `tributary-cloud: cannot start: ${(err as Error).message}${typeof code === 'string' ? ` (${code})` : ''}\n`,
  );
  process.exit(1);
}

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
