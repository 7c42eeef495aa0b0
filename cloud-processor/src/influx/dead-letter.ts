import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One refused point, as a line of the dead-letter file. */
export interface DeadLetterRecord {
  /** When it was refused (ISO 8601). */
  readonly at: string;
  /** The HTTP status of the refusal, when there was one. */
  readonly status: number | undefined;
  /** InfluxDB's reason, verbatim (e.g. `partial write: field type conflict: ...`). */
  readonly reason: string;
  /** The point as line protocol, ready to be fixed and written again (e.g. with curl). */
  readonly line: string;
}

/**
 * Points InfluxDB refused, appended to a JSON-lines file and synced to disk before `append`
 * resolves, so a batch whose refused points are here can be acked. Bounded: once the file holds
 * `maxBytes`, further records are dropped and counted (returned as `dropped`), never written.
 */
export class DeadLetterFile {
  private handle: FileHandle | undefined;
  private size = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Appends the lines with the reason; resolves with how many were kept and dropped. Rejects on I/O errors. */
  append(lines: readonly string[], reason: string, status: number | undefined): Promise<{ kept: number; dropped: number }> {
    const run = this.tail.then(() => this.appendNow(lines, reason, status));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.tail;
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private async appendNow(lines: readonly string[], reason: string, status: number | undefined): Promise<{ kept: number; dropped: number }> {
    const h = await this.open();
    const at = new Date(this.now()).toISOString();
    let text = '';
    let bytes = 0;
    let kept = 0;
    for (const line of lines) {
      const record = `${JSON.stringify({ at, status, reason, line } satisfies DeadLetterRecord)}\n`;
      const size = Buffer.byteLength(record);
      if (this.size + bytes + size > this.maxBytes) break;
      text += record;
      bytes += size;
      kept++;
    }
    if (kept > 0) {
      await h.write(text);
      await h.datasync();
      this.size += bytes;
    }
    return { kept, dropped: lines.length - kept };
  }

  private async open(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(dirname(this.path), { recursive: true });
    const h = await open(this.path, 'a');
    this.size = (await h.stat()).size;
    this.handle = h;
    return h;
  }
}
