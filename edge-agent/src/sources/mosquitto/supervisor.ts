import { spawn, type ChildProcess } from 'node:child_process';
import { Backoff } from '@tributary/runtime';

/** Output kept for the reasons of an exit (the last lines a server printed). */
const OUTPUT_KEPT = 4 * 1024;
/** A child that ran this long was healthy: the next restart starts from the shortest wait again. */
const HEALTHY_AFTER_MS = 10_000;

export interface SupervisorOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly restart: { readonly initialMs: number; readonly maxMs: number };
  /** The child exited without being asked to, and will be started again in `restartInMs`. */
  readonly exited: (exit: { code: number | null; signal: string | null; output: string; restartInMs: number }) => void;
  /** Each line the child prints (stdout and stderr). */
  readonly line?: (line: string) => void;
}

/**
 * Keeps a child process running: starts it, starts it again with exponential backoff and jitter
 * whenever it exits on its own (a crash, a kill), and stops it on request (SIGTERM, then SIGKILL).
 * Only the exit of the child it started last is acted on.
 */
export class ChildSupervisor {
  private child: ChildProcess | undefined;
  private output = '';
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = new Backoff(options.restart.initialMs, options.restart.maxMs);
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last few KiB the child printed. */
  get recentOutput(): string {
    return this.output;
  }

  start(): void {
    this.stopping = false;
    this.spawn();
  }

  /** Sends `signal` to the running child (none when it is between restarts). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal);
  }

  /** SIGTERM, SIGKILL after `timeoutMs`; resolves once it has exited. No restart follows. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): void {
    const startedAt = Date.now();
    const child = spawn(this.options.command, this.options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    let partial = '';
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-OUTPUT_KEPT);
      const lines = (partial + text).split('\n');
      partial = (lines.pop() ?? '').slice(-OUTPUT_KEPT);
      for (const line of lines) if (line !== '') this.options.line?.(line);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let ended = false;
    const onExit = (code: number | null, signal: string | null): void => {
      if (ended || this.stopping || child !== this.child) return;
      ended = true;
      if (Date.now() - startedAt >= HEALTHY_AFTER_MS) this.backoff.reset();
      const restartInMs = this.backoff.next();
      this.options.exited({ code, signal, output: this.output, restartInMs });
      this.restartTimer = setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, restartInMs);
    };
    child.once('exit', onExit);
    // A command that cannot be run at all (gone from disk) ends in 'error', without an 'exit'.
    child.on('error', (err) => {
      this.output += `\n${err.message}`;
      if (child.pid === undefined) onExit(null, null);
    });
  }
}
