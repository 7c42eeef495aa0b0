import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';
import { which } from './which.js';

export const PROMETHEUS_MISSING =
  'prometheus is not installed (apt-get install -y prometheus; npm test installs it where it can): the Prometheus panels are not run';

/** One series of an instant query's answer. */
export interface PromSeries {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface Prometheus {
  readonly url: string;
  /** An instant PromQL query's result series. */
  query(expr: string): Promise<PromSeries[]>;
  stop(): Promise<void>;
}

/** A private Prometheus (Debian's) on a free loopback port, scraping `targets` (host:port) every second. */
export async function startPrometheus(targets: readonly string[]): Promise<Prometheus | undefined> {
  const binary = which('prometheus');
  if (binary === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-prometheus-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tributary\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`,
  );
  const proc = new ServerProcess('prometheus', binary, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=error',
  ]);
  proc.start();
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'prometheus to be ready',
    async () => {
      if (!proc.running) throw new Error(`prometheus exited: ${proc.recentOutput}`);
      return (await fetch(`${url}/-/ready`)).ok;
    },
    20_000,
  );
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSeries[] } };
      if (body.status !== 'success') throw new Error(`PromQL ${expr}: ${body.error}`);
      return body.data!.result;
    },
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
