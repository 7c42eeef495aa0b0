import { spawn, type ChildProcess } from 'node:child_process';

/** Bytes of output kept per process: enough for the log lines tests read back. */
const OUTPUT_KEPT = 256 * 1024;

/**
 * A server started as a child process, with the tail of its output kept for error messages.
 * `kill` sends SIGKILL (a crash); `stop` sends SIGTERM and waits for the exit.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly env: Readonly<Record<string, string>> = {},
    /** In a process group of its own (signals to ours, such as a terminal's Ctrl-C, do not reach it). */
    private readonly ownProcessGroup = false,
  ) {}

  start(): void {
    this.output = '';
    const child = spawn(this.command, this.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
      detached: this.ownProcessGroup,
    });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last few kB the process printed, for error messages. */
  get recentOutput(): string {
    return this.output.slice(-4000);
  }

  /** JSON log lines printed since the last start (pino's format), parsed. */
  logLines(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.output.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut at the start of the kept output
      }
    }
    return out;
  }

  /** Resolves when the process has exited. */
  exitedPromise(): Promise<void> {
    return this.exited;
  }

  /** Sends a signal (SIGSTOP pauses it, SIGCONT resumes it). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal);
  }

  async kill(): Promise<void> {
    if (this.running) this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
