#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * (The shebang caps V8's young generation at 4 MB a semi-space: on a Pi it keeps the agent near
 * 100 MB resident with 10,000 series instead of about 130 MB; `npm run bench:edge` shows both.)
 *
 * Runs the edge agent until SIGINT or SIGTERM, then flushes open windows and waits briefly for the
 * cloud's acks. A bad command line or config prints what is wrong and exits with status 2.
 */
import { commandLineError, journalAware, parseCommandLine } from '@tributary/runtime';
import { pino } from 'pino';
import { EdgeAgent } from './agent.js';
import { loadAgentConfig } from './config.js';
import { serveStatus } from './http.js';
import { listSerialPorts } from './sources/serial-ports.js';

const USAGE = `usage: tributary-agent --config agent.yaml [--state-dir DIR]
       tributary-agent --list-ports

Reads sensors (serial ports, MQTT), aggregates their readings into windows and forwards them to
the cloud processor, until SIGINT or SIGTERM (which flush the open windows).

  -c, --config FILE     the config, YAML or JSON (docs/configuration.md); keys can be
                        overridden by TRIBUTARY_AGENT_<KEY>__<KEY>=value
      --state-dir DIR   where the spool and seq live (overrides stateDir)
      --list-ports      lists the serial ports and exits
  -h, --help            prints this and exits

Exit status: 0 after a clean stop, 2 for a bad command line or config (TLS files
included), 1 when it cannot start otherwise.
`;

const { values } = parseCommandLine('tributary-agent', USAGE, {
  options: {
    config: { type: 'string', short: 'c' },
    'state-dir': { type: 'string' },
    'list-ports': { type: 'boolean', default: false },
  },
});
if (values['list-ports']) {
  // Without udevadm (containers, minimal images) this warns and lists nothing; it never fails.
  const ports = await listSerialPorts(pino({ level: 'warn' }));
  for (const p of ports)
    process.stdout.write(
      `${p.path}${p.manufacturer ? `  ${p.manufacturer}` : ''}${p.serialNumber ? `  ${p.serialNumber}` : ''}\n`,
    );
  process.exit(0);
}
if (values.config === undefined) commandLineError('tributary-agent', USAGE, '--config is required');
const loaded = loadAgentConfig(values.config);
if (!loaded.ok) {
  process.stderr.write(`tributary-agent: invalid config ${values.config}: ${loaded.error.message}\n`);
  process.exit(2);
}
const config = loaded.value;
// Under systemd each line carries its journal priority (journalctl -p warning shows warnings).
const log = pino({ level: config.log.level, base: { agent: config.agentId } }, journalAware(pino.destination(1)));
const agent = new EdgeAgent({
  config,
  ...(values['state-dir'] === undefined ? {} : { stateDir: values['state-dir'] }),
  log,
});
try {
  await agent.start();
} catch (err) {
  // A source that cannot start (a missing program, a port taken): say which and why, without a
  // stack. A TLS file of the config that cannot be used is a bad config (exit 2).
  const code = (err as { code?: unknown }).code;
  if (code === 'tls_config') {
    process.stderr.write(`tributary-agent: invalid config ${values.config}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `tributary-agent: cannot start: ${(err as Error).message}${typeof code === 'string' ? ` (${code})` : ''}\n`,
  );
  process.exit(1);
}
const http = config.http
  ? await serveStatus(
      config.http.host,
      config.http.port,
      () => agent.prometheus.text(),
      () => agent.health(),
    )
  : undefined;
if (http) log.info({ port: http.port }, 'status server listening');

let stopping = false;
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: flushing open windows');
  const { drained } = await agent.stop();
  http?.server.close();
  log.info({ drained, counters: agent.counters.snapshot() }, 'agent stopped');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
