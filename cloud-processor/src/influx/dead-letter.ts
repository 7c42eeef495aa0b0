import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A point InfluxDB refused, as a line of the dead-letter file. */
export interface RefusedPointRecord {
  /** When it was refused (ISO 8601). */
  readonly at: string;
  /** The HTTP status of the refusal, when there was one. */
  readonly status: number | undefined;
  /** InfluxDB's reason, verbatim (e.g. `partial write: field type conflict: ...`). */
  readonly reason: string;
  /** The point as line protocol, ready to be fixed and written again (e.g. with curl). */
  readonly line: string;
}

/** A point the processor could not encode as line protocol (so there is no line), as it had it. */
export interface UnencodablePointRecord {
  readonly at: string;
  /** The encoder's reason. */
  readonly reason: string;
  /** The window (with its measurement, agent and site), the agent's counters or the alert, as JSON. */
  readonly point: unknown;
}

/** A batch whose processing failed, as it arrived (its text), so nothing of it is lost. */
export interface FailedBatchRecord {
  readonly at: string;
  readonly reason: string;
  readonly batch: string;
}

/** One line of the dead-letter file. */
export type DeadLetterRecord = RefusedPointRecord | UnencodablePointRecord | FailedBatchRecord;

/** A record before it is stamped with `at`. */
export type DeadLetterEntry =
  | Omit<RefusedPointRecord, 'at'>
  | Omit<UnencodablePointRecord, 'at'>
  | Omit<FailedBatchRecord, 'at'>;

/**
 * Points InfluxDB refused (and points or batches the processor could not encode), appended to a JSON-lines file and synced to disk before `append`
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

  /** Appends the lines InfluxDB refused, with its reason; resolves with how many were kept and dropped. Rejects on I/O errors. */
  append(
    lines: readonly string[],
    reason: string,
    status: number | undefined,
  ): Promise<{ kept: number; dropped: number }> {
    return this.appendEntries(lines.map((line) => ({ status, reason, line })));
  }

  /** Appends records in order; resolves with how many were kept and dropped (at the bound). Rejects on I/O errors. */
  appendEntries(entries: readonly DeadLetterEntry[]): Promise<{ kept: number; dropped: number }> {
    const run = this.tail.then(() => this.appendNow(entries));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.tail;
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private async appendNow(entries: readonly DeadLetterEntry[]): Promise<{ kept: number; dropped: number }> {
    const h = await this.open();
    const at = new Date(this.now()).toISOString();
    let text = '';
    let bytes = 0;
    let kept = 0;
    for (const entry of entries) {
      const record = `${JSON.stringify({ at, ...entry } satisfies DeadLetterRecord)}\n`;
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
    return { kept, dropped: entries.length - kept };
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
