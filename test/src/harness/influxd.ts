import { influxQuery as storageQuery, type QuerySeries } from '@tributary/storage';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';
import { which } from './which.js';

export const INFLUXD_MISSING =
  'influxd was not found. Install InfluxDB 1.x: sudo apt-get install -y influxdb (Debian, Raspberry Pi OS), or set INFLUX_URL to a running InfluxDB.';

/** Starts of influxd on freshly chosen ports when the ones chosen were taken before it bound them. */
const PORT_ATTEMPTS = 3;

/** influxd exited while starting; `portTaken` when a port it was given was bound by someone else first. */
class InfluxdExited extends Error {
  readonly portTaken: boolean;
  constructor(output: string) {
    super(`influxd exited: ${output}`);
    this.portTaken = output.includes('address already in use');
  }
}

/** A private InfluxDB 1.x on free loopback ports with its data in a temporary directory. */
export interface Influxd {
  readonly url: string;
  readonly dir: string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
}

/**
 * With `admin`, influxd requires authentication and the admin user is created at start (influxd
 * allows that one unauthenticated statement while it has no users). With `ownProcessGroup`, a
 * terminal's Ctrl-C (sent to the whole foreground process group) does not reach it, so the demo
 * can still read InfluxDB for its summary after Ctrl-C; whoever starts it must stop it.
 */
export async function startInfluxd(
  options: { admin?: { username: string; password: string }; ownProcessGroup?: boolean } = {},
): Promise<Influxd> {
  const binary = which('influxd');
  if (binary === undefined) throw new Error(INFLUXD_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-influxd-'));
  let httpPort = 0;
  let url = '';
  // Every listener on loopback: the RPC port (8088 by default) too, so parallel instances coexist.
  const configFile = join(dir, 'influxdb.conf');
  const configure = async (): Promise<void> => {
    const rpcPort = await freePort();
    httpPort = await freePort();
    url = `http://127.0.0.1:${httpPort}`;
    writeFileSync(
      configFile,
      `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  auth-enabled = ${options.admin !== undefined}
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
`,
    );
  };
  const proc = new ServerProcess('influxd', binary, ['-config', configFile], {}, options.ownProcessGroup === true);
  const up = async (): Promise<void> => {
    proc.start();
    let exited = false;
    await waitFor(
      'influxd to answer /ping',
      async () => {
        if (!proc.running) return (exited = true);
        const res = await fetch(`${url}/ping`);
        return res.status === 204;
      },
      30_000,
    );
    if (exited) throw new InfluxdExited(proc.recentOutput);
    // The port is chosen free, then bound by influxd: another test's server may take it in between,
    // and answer in its place (a test would then write to someone else's InfluxDB). Its command
    // line (expvar `cmdline`) names the config file, which is this one's alone.
    const vars = (await (await fetch(`${url}/debug/vars`)).json()) as { cmdline?: string[] };
    if (!vars.cmdline?.includes(configFile))
      throw new Error(
        `port ${httpPort} is answered by another influxd (${JSON.stringify(vars.cmdline)}), not the one started with ${configFile}: ${proc.recentOutput}`,
      );
  };
  // A port chosen free may be taken by another test's server before influxd binds it: then other ports.
  for (let attempt = 1; ; attempt++) {
    await configure();
    try {
      await up();
      break;
    } catch (err) {
      if (!(err instanceof InfluxdExited && err.portTaken) || attempt === PORT_ATTEMPTS) throw err;
    }
  }
  if (options.admin) {
    const q = `CREATE USER "${options.admin.username}" WITH PASSWORD '${options.admin.password}' WITH ALL PRIVILEGES`;
    const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
    if (!res.ok) throw new Error(`creating the influxd admin failed with HTTP ${res.status}: ${await res.text()}`);
  }
  return {
    url,
    dir,
    kill: () => proc.kill(),
    restart: up,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs an InfluxQL query and returns the first statement's series (through storage's InfluxQL reader). */
export function influxQuery(url: string, database: string, q: string): Promise<QuerySeries[]> {
  return storageQuery({ url, database }, q);
}
