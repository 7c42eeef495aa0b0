import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A pseudo-terminal pair made by `socat` (Debian's `socat` package): bytes written to `deviceEnd`
 * come out of `readerEnd`, which a reader opens as it would `/dev/ttyUSB0`. The simulator makes it
 * on start and removes it (process and links) on close.
 */
export class PtyPair {
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly deviceEnd: string,
    readonly readerEnd: string,
  ) {
    this.exited = new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  }

  /** Starts socat; `readerPath` names the reader's end (a symlink), else one in a temporary directory. */
  static async create(readerPath?: string, timeoutMs = 5000): Promise<PtyPair> {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-sim-pty-'));
    const deviceEnd = join(dir, 'device');
    const readerEnd = readerPath ?? join(dir, 'reader');
    const output = { text: '' };
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${deviceEnd}`, `pty,raw,echo=0,link=${readerEnd}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (b: Buffer) => (output.text = (output.text + b.toString()).slice(-2000)));
    const failed = new Promise<Error>((resolve) => {
      child.once('error', (err) =>
        resolve(new Error(`socat could not be started (${err.message}); install it: sudo apt-get install -y socat`)),
      );
      child.once('exit', (code) => resolve(new Error(`socat exited with ${code}: ${output.text.trim()}`)));
    });
    const deadline = Date.now() + timeoutMs;
    let error: Error | undefined;
    void failed.then((e) => (error = e));
    while (!(existsSync(deviceEnd) && existsSync(readerEnd))) {
      if (error) break;
      if (Date.now() > deadline)
        error = new Error(`socat made no pty pair within ${timeoutMs} ms: ${output.text.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (error) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return new PtyPair(child, dir, deviceEnd, readerEnd);
  }

  /** Stops socat (both ends vanish) and removes the links. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
    rmSync(this.readerEnd, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
