import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BatchQueue, SpooledBatch, SpoolRecovery } from './batch-queue.js';
import { AckCursor } from './cursor.js';
import { decodeRecordAt, encodeRecord, RECORD_HEADER_BYTES } from './record.js';

export interface DiskSpoolOptions {
  readonly dir: string;
  /** Bound on the spool's files; reaching it applies `onFull`. */
  readonly maxSpoolBytes: number;
  /** A segment file is closed and a new one started beyond this size. */
  readonly segmentBytes: number;
  readonly onFull: 'drop-oldest' | 'reject-new';
  /**
   * `per-batch`: fsync after every append, before the batch can be sent — nothing sent is ever
   * lost, at one flash write per batch. `interval`: fsync every `fsyncIntervalMs` — fewer writes
   * for SD-card wear, but a power cut loses the batches of the last interval.
   */
  readonly fsync: 'per-batch' | 'interval';
  readonly fsyncIntervalMs: number;
  /**
   * Called when the periodic fsync or cursor save fails (disk full, directory gone): the spool
   * goes on, since a stale cursor only re-sends acked batches, but someone should hear of it.
   */
  readonly onBackgroundError?: (err: Error) => void;
}

interface Segment {
  readonly firstSeq: number;
  readonly path: string;
  size: number;
  /** Records in this segment not yet acked or dropped. */
  live: number;
}

interface Entry extends SpooledBatch {
  readonly segment: Segment;
  readonly payloadOffset: number;
  readonly payloadLength: number;
}

/** After an unclean stop with interval fsync, this many seqs are skipped (see `open`). */
const SEQ_SKIP_AFTER_UNCLEAN_STOP = 10_000;

const CURSOR_SAVE_MS = 1_000;

const segmentName = (firstSeq: number): string => `${String(firstSeq).padStart(16, '0')}.seg`;

/**
 * An append-only spool of sealed batches on disk: segment files of checksummed records (see
 * record.ts), bounded in bytes, with an ack cursor. A batch is appended before it is sent and
 * forgotten only when the cloud acks it; a segment file is deleted once all its batches are acked
 * or dropped. `open` recovers: torn records are detected by their checksum, counted, reported
 * and cut off, and every unacked batch is offered again, in seq order.
 */
export class DiskSpool implements BatchQueue {
  private readonly unacked = new Map<number, Entry>();
  private readonly segments: Segment[] = [];
  private activeFd: number | undefined;
  private totalBytes = 0;
  private next = 0;
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly cursor: AckCursor;

  /** Opens nothing: the directory is made and read by `open`. */
  constructor(private readonly options: DiskSpoolOptions) {
    this.cursor = new AckCursor(join(options.dir, 'cursor.json'));
  }

  /**
   * Makes the directory if need be and reads what is there: every unacked batch is offered again,
   * torn records are cut off, and what was found is returned. Once, before anything else.
   */
  open(): SpoolRecovery {
    const options = this.options;
    mkdirSync(options.dir, { recursive: true });
    const saved = this.cursor.load();
    const problems: string[] = [];
    let tornRecords = 0;
    let tornBytes = 0;
    let lastSeq = -1;
    /** The seq of a torn last record: the one a power cut kept from being appended. */
    let tornSeq: number | undefined;
    const files = readdirSync(options.dir)
      .filter((f) => /^\d{16}\.seg$/.test(f))
      .sort();
    for (const [i, file] of files.entries()) {
      const segment: Segment = { firstSeq: Number(file.slice(0, 16)), path: join(options.dir, file), size: 0, live: 0 };
      const bytes = readFileSync(segment.path);
      let offset = 0;
      while (offset < bytes.length) {
        const r = decodeRecordAt(bytes, offset);
        if (!r.ok) {
          tornRecords++;
          tornBytes += bytes.length - offset;
          problems.push(`${file} at byte ${offset}: ${r.reason}; ${bytes.length - offset} bytes skipped`);
          // Only the last segment is ever appended to: cut the damage off so appends continue cleanly.
          if (i === files.length - 1) {
            tornSeq = offset === 0 ? segment.firstSeq : lastSeq + 1;
            const fd = openSync(segment.path, 'r+');
            ftruncateSync(fd, offset);
            fsyncSync(fd);
            closeSync(fd);
          }
          break;
        }
        lastSeq = Math.max(lastSeq, r.meta.seq);
        if (!saved.isAcked(r.meta.seq)) {
          this.unacked.set(r.meta.seq, {
            ...r.meta,
            segment,
            payloadOffset: r.payloadOffset,
            payloadLength: r.payloadLength,
          });
          segment.live++;
        }
        offset += r.size;
      }
      segment.size = offset;
      this.segments.push(segment);
      this.totalBytes += offset;
    }
    // With interval fsync an unclean stop may have lost batches that had already been sent; their
    // seqs must not be used again, or the cloud would take new batches for duplicates.
    const skip = !saved.clean && options.fsync === 'interval' ? SEQ_SKIP_AFTER_UNCLEAN_STOP : 0;
    // The cursor may have counted the torn batch as appended already: it was not.
    const appendedBelow = tornSeq ?? Math.max(saved.nextSeq, lastSeq + 1);
    this.next = Math.max(saved.nextSeq, lastSeq + 1) + skip;
    const recovery = { unacked: this.unacked.size, tornRecords, tornBytes, problems, seqsSkipped: skip, appendedBelow };
    this.deleteFinishedSegments(true);
    this.cursor.save(this.next, this.firstUnacked(), false);
    // Acks move the cursor often; writing it at most once a second spares the flash.
    this.syncTimer = setInterval(
      () => {
        try {
          if (options.fsync === 'interval') this.sync();
          this.cursor.saveIfChanged(this.next, this.firstUnacked());
        } catch (err) {
          // Thrown from a timer it would end the agent; the next tick (or close) tries again.
          options.onBackgroundError?.(err as Error);
        }
      },
      Math.min(options.fsyncIntervalMs, CURSOR_SAVE_MS),
    );
    this.syncTimer.unref();
    return recovery;
  }

  get size(): number {
    return this.unacked.size;
  }

  get epoch(): number {
    return this.cursor.epoch;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  nextSeq(): number {
    return this.next;
  }

  append(batch: SpooledBatch, payload: string): SpooledBatch[] {
    const record = encodeRecord(batch, payload);
    const dropped: SpooledBatch[] = [];
    // A record that can never fit is refused before anything else is dropped for it.
    if (record.length > this.options.maxSpoolBytes) return [batch];
    if (this.totalBytes + record.length > this.options.maxSpoolBytes) {
      if (this.options.onFull === 'reject-new') return [batch];
      while (this.totalBytes + record.length > this.options.maxSpoolBytes && this.segments.length > 0) {
        // The active segment can be dropped too, once it is closed: roll to a fresh one first.
        if (this.segments.length === 1) this.roll(batch.seq);
        dropped.push(...this.dropSegment(this.segments[0]!));
      }
    }
    let active = this.segments.at(-1);
    if (active === undefined || this.activeFd === undefined || active.size >= this.options.segmentBytes)
      active = this.roll(batch.seq);
    writeSync(this.activeFd!, record);
    const payloadLength = record.length - RECORD_HEADER_BYTES;
    this.unacked.set(batch.seq, {
      ...batch,
      segment: active,
      payloadOffset: active.size + RECORD_HEADER_BYTES,
      payloadLength,
    });
    active.size += record.length;
    active.live++;
    this.totalBytes += record.length;
    this.next = Math.max(this.next, batch.seq + 1);
    if (this.options.fsync === 'per-batch') fsyncSync(this.activeFd!);
    else this.unsynced = true;
    this.cursor.touch();
    return dropped;
  }

  oldest(max: number): SpooledBatch[] {
    const out: SpooledBatch[] = [];
    for (const e of this.unacked.values()) {
      if (out.length >= max) break;
      out.push(e);
    }
    return out;
  }

  payload(seq: number): string | undefined {
    const e = this.unacked.get(seq);
    if (!e) return undefined;
    const buffer = Buffer.allocUnsafe(e.payloadLength);
    const fd = openSync(e.segment.path, 'r');
    try {
      readSync(fd, buffer, 0, e.payloadLength, e.payloadOffset);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8');
  }

  remove(seq: number): boolean {
    const e = this.unacked.get(seq);
    if (!e) return false;
    this.unacked.delete(seq);
    e.segment.live--;
    this.cursor.acked(seq, this.firstUnacked());
    if (e.segment.live === 0 && e.segment !== this.segments.at(-1)) this.deleteFinishedSegments(false);
    return true;
  }

  close(): void {
    if (this.syncTimer === undefined) return; // never opened: nothing to release
    clearInterval(this.syncTimer);
    this.sync();
    if (this.activeFd !== undefined) closeSync(this.activeFd);
    this.activeFd = undefined;
    this.cursor.save(this.next, this.firstUnacked(), true);
  }

  private sync(): void {
    if (this.unsynced && this.activeFd !== undefined) fsyncSync(this.activeFd);
    this.unsynced = false;
  }

  private firstUnacked(): number {
    const first = this.unacked.keys().next();
    return first.done ? this.next : first.value;
  }

  /** Closes the active segment and starts a new one whose name is the seq of its first record. */
  private roll(firstSeq: number): Segment {
    if (this.activeFd !== undefined) {
      fsyncSync(this.activeFd);
      closeSync(this.activeFd);
    }
    const segment: Segment = { firstSeq, path: join(this.options.dir, segmentName(firstSeq)), size: 0, live: 0 };
    this.activeFd = openSync(segment.path, 'a');
    const previous = this.segments.at(-1);
    this.segments.push(segment);
    if (previous && previous.live === 0) this.deleteFinishedSegments(false);
    return segment;
  }

  /** Deletes a whole segment at the bound; returns its unacked batches, now dropped. */
  private dropSegment(segment: Segment): SpooledBatch[] {
    const dropped: SpooledBatch[] = [];
    for (const e of this.unacked.values()) {
      if (e.segment !== segment) continue;
      this.unacked.delete(e.seq);
      dropped.push({ seq: e.seq, windows: e.windows, readings: e.readings });
    }
    segment.live = 0;
    // The cursor must move past the dropped batches before their file goes.
    this.cursor.save(this.next, this.firstUnacked(), false);
    this.unlinkSegment(segment);
    return dropped;
  }

  /** Deletes every closed segment with nothing left to send (after saving the cursor). */
  private deleteFinishedSegments(includeLast: boolean): void {
    const done = this.segments.filter((s, i) => s.live === 0 && (includeLast || i < this.segments.length - 1));
    if (done.length === 0) return;
    this.cursor.save(this.next, this.firstUnacked(), false);
    for (const s of done) this.unlinkSegment(s);
  }

  private unlinkSegment(segment: Segment): void {
    const i = this.segments.indexOf(segment);
    if (i < 0) return;
    if (i === this.segments.length - 1 && this.activeFd !== undefined) {
      closeSync(this.activeFd);
      this.activeFd = undefined;
    }
    this.segments.splice(i, 1);
    this.totalBytes -= segment.size;
    try {
      unlinkSync(segment.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** Bytes of spool files in `dir` (for tests and status). */
export function spoolBytesOnDisk(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}
