import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { AgentConfigInput, ProcessorConfigInput } from '@tributary/firmware-schemas';
import { metric, scrape } from './metrics.js';
import { freePort } from './ports.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';

const cliOf = (pkg: string): string => fileURLToPath(new URL('./cli.js', import.meta.resolve(pkg)));

/**
 * An edge agent or cloud processor running as its own process from its CLI and config file, so a
 * test can SIGKILL it like a power cut and start it again on the same state.
 */
export class NodeService {
  private readonly proc: ServerProcess;

  private constructor(
    readonly name: string,
    readonly httpPort: number,
    cli: string,
    args: string[],
    nodeFlags: readonly string[] = [],
  ) {
    this.proc = new ServerProcess(name, process.execPath, [...nodeFlags, cli, ...args]);
  }

  /** Starts `tributary-agent` with this config (http status server on a free port), and Node flags if given. */
  static async agent(dir: string, config: AgentConfigInput, nodeFlags: readonly string[] = []): Promise<NodeService> {
    const port = await freePort();
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ ...config, http: { host: '127.0.0.1', port }, log: { level: 'info' } }));
    const service = new NodeService('agent', port, cliOf('@tributary/edge-agent'), ['--config', file], nodeFlags);
    await service.start();
    return service;
  }

  /** Starts `tributary-cloud` with this config (http server on a free port, with the config's other http settings), and Node flags if given. */
  static async cloud(
    dir: string,
    config: ProcessorConfigInput,
    name = 'cloud',
    nodeFlags: readonly string[] = [],
  ): Promise<NodeService> {
    const port = await freePort();
    const file = join(dir, 'processor.json');
    writeFileSync(
      file,
      JSON.stringify({ ...config, http: { ...config.http, host: '127.0.0.1', port }, log: { level: 'info' } }),
    );
    const service = new NodeService(name, port, cliOf('@tributary/cloud-processor'), ['--config', file], nodeFlags);
    await service.start();
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** The process id while it runs (for its resident memory). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  async start(): Promise<void> {
    this.proc.start();
    await waitFor(
      `${this.name} to answer /health`,
      async () => {
        if (!this.proc.running) throw new Error(`${this.name} exited: ${this.proc.recentOutput}`);
        return (await fetch(`${this.url}/health`)).ok;
      },
      20_000,
    );
  }

  /** SIGSTOP pauses it (timers, sockets and all), SIGCONT resumes it. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.proc.signal(signal);
  }

  /** SIGKILL: no flush, no goodbye. */
  kill(): Promise<void> {
    return this.proc.kill();
  }

  /** SIGTERM: the graceful stop (the agent flushes its windows and waits for acks). */
  stop(timeoutMs = 40_000): Promise<void> {
    return this.proc.stop(timeoutMs);
  }

  async metric(name: string): Promise<number> {
    return metric(await scrape(`${this.url}/metrics`), name);
  }

  /** Log lines of the current run with this `msg`. */
  logs(msg: string): Array<Record<string, unknown>> {
    return this.proc.logLines().filter((l) => l.msg === msg);
  }

  get output(): string {
    return this.proc.recentOutput;
  }
}
