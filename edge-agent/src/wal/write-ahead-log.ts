import { closeSync, fdatasync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadingLog } from '../core/pipeline.js';
import { encodeRecord } from '../spool/record.js';
import { encodeMarker, EntryKind, outOfRangeLine, type Marker } from './entries.js';
import { readSegments, type Segment, segmentEntries, type WalEntry, type WalOpening } from './segments.js';

export type { WalEntry, WalOpening } from './segments.js';

export interface WalOptions {
  readonly dir: string;
  /** Bound on the segment files. At the bound, readings are accepted (or counted out of range) but not logged (`onUnprotected`). */
  readonly maxWalBytes: number;
  /** A new segment is begun (at the next marker) once the active one is this large. */
  readonly segmentBytes: number;
  /** Group commit: appended readings are written and fdatasync'd at most this often. */
  readonly commitIntervalMs: number;
}

const segmentName = (gen: number): string => `${String(gen).padStart(16, '0')}.wal`;

/**
 * The receiver write-ahead log (DESIGN.md, "Delivery"): the readings the agent accepted (and those
 * the range filter removed that open windows count as `outOfRange`), appended
 * as they are accepted and group-committed — written and fdatasync'd at most every
 * `commitIntervalMs` — before the sources that can be re-delivered are acknowledged (`afterCommit`),
 * so a crash loses no reading that was acknowledged, open windows included. Segment files of the
 * spool's checksummed records (a torn tail is found by its CRC and cut off), bounded in bytes.
 *
 * A marker is written, synchronously and durably, before each sealed batch goes into the spool;
 * segments whose readings are all in spooled batches are deleted (`trim`). Each new segment starts
 * with a full marker, so older segments can go with the markers in them. After a clean stop
 * everything is in the spool and the log is emptied (`reset`).
 */
export class WriteAheadLog implements ReadingLog {
  private readonly segments: Segment[] = [];
  private fd: number | undefined;
  private total = 0;
  private record = 0;
  /** Segments before this one cannot be read without the markers they hold: it starts with a full marker (or is the first). */
  private fullGen = 0;
  /** The text of the group being gathered: lines of messages (see entries.ts), the last one open unless `lineDevice` is undefined. */
  private text = '';
  private readings = 0;
  private lineDevice: string | undefined;
  private lineTs = NaN;
  private lineNow = NaN;
  private lineOrigin = NaN;
  private unsynced = false;
  private syncing = false;
  /** Segment fds retired while an fdatasync on them was in flight: closed when it returns. */
  private readonly retired: number[] = [];
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private lastSyncAt = 0;
  private found: WalOpening = { segments: 0, bytes: 0, tornRecords: 0, problems: [] };

  /** Opens nothing: the directory is made and read by `open`. */
  constructor(
    private readonly o: WalOptions,
    /** Readings not logged: at the bound (their count), or after a write failed. */
    private readonly onUnprotected: (readings: number, reason: string) => void,
  ) {}

  /**
   * Makes the directory if need be and reads the segments there (a torn tail is cut off), then
   * opens the last one for appending. Once, before anything is logged; returns what it found.
   */
  open(): WalOpening {
    const found = readSegments(this.o.dir);
    this.segments.push(...found.segments);
    this.record = found.nextRecord;
    this.fullGen = found.fullGen;
    this.total = found.opening.bytes;
    this.found = found.opening;
    const last = this.segments.at(-1);
    if (last === undefined || last.size >= this.o.segmentBytes) this.roll();
    else this.fd = openSync(last.path, 'a');
    return this.found;
  }

  /** What `open` found (nothing before it). */
  get opening(): WalOpening {
    return this.found;
  }

  /** The segment being appended to; panes remember it for `trim` (WindowEngine.walTag). */
  get gen(): number {
    return this.segments.at(-1)!.gen;
  }

  get bytes(): number {
    return this.total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Every record found at opening, in order (read again from the files each time; for recovery). */
  entries(): Generator<WalEntry> {
    return segmentEntries(this.segments);
  }

  /** Logs one accepted reading (ReadingLog): gathered into the next group commit. */
  accepted(device: string, metric: string, ts: number, value: number, now: number, origin: number): void {
    if (device !== this.lineDevice || ts !== this.lineTs || now !== this.lineNow || origin !== this.lineOrigin) {
      this.text += `${this.text === '' ? '' : '\n'}${device}\t${ts}\t${now}\t${origin}`;
      this.lineDevice = device;
      this.lineTs = ts;
      this.lineNow = now;
      this.lineOrigin = origin;
    }
    this.text += `\t${metric}\t${value}`;
    this.readings++;
    this.schedule();
  }

  /**
   * Logs one reading the range filter removed that an open window counted (ReadingLog): a line of
   * its own, so recovery notes it where it came among the accepted readings.
   */
  outOfRange(device: string, metric: string, ts: number, now: number, origin: number): void {
    this.text += `${this.text === '' ? '' : '\n'}${outOfRangeLine(device, ts, now, origin, metric)}`;
    this.lineDevice = undefined; // the next accepted reading starts a line
    this.readings++;
    this.schedule();
  }

  /** Calls `release` once everything logged before this call is durable (at once when nothing waits). */
  afterCommit(release: () => void): void {
    if (this.text === '' && !this.unsynced && !this.syncing && this.waiters.length === 0) return release();
    this.waiters.push(release);
    this.schedule();
  }

  /**
   * A batch is about to be spooled: writes what was gathered and the marker, and makes them
   * durable before returning (a marker must never be lost while its batch is in the spool). When
   * `full` is given (it lists every boundary) and the active segment is full, starts a new segment
   * headed by a full marker of the same seq.
   */
  marker(m: Omit<Marker, 'full'>, full: (() => Omit<Marker, 'full' | 'seq'>) | undefined): void {
    this.writeGroup();
    this.write(EntryKind.marker, 0, encodeMarker({ ...m, full: false }), true);
    this.syncNow();
    if (full === undefined || this.segments.at(-1)!.size < this.o.segmentBytes) return;
    this.roll();
    this.write(EntryKind.marker, 0, encodeMarker({ ...full(), seq: m.seq, full: true }), true);
    this.syncNow();
    this.fullGen = this.gen;
  }

  /** Windows taken back at start (see entries.ts): logged so a crash after this still has them. */
  restored(windowsJson: string): void {
    this.writeGroup();
    this.write(EntryKind.restored, 0, windowsJson, true);
    this.syncNow();
  }

  /**
   * Deletes the segments before `neededGen` (the oldest segment holding a reading of a window not
   * yet spooled) that no marker needs any more. Called after a batch was spooled.
   */
  trim(neededGen: number): void {
    const keepFrom = Math.min(neededGen, this.fullGen);
    while (this.segments.length > 1 && this.segments[0]!.gen < keepFrom) {
      const s = this.segments.shift()!;
      this.total -= s.size;
      unlinkSync(s.path);
    }
  }

  /** After a clean stop (everything is spooled): deletes every segment and starts an empty one. */
  reset(): void {
    this.writeGroup();
    this.syncNow();
    for (const s of this.segments.splice(0)) unlinkSync(s.path);
    this.total = 0;
    this.closeFd();
    this.roll();
    this.fullGen = this.gen;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writeGroup();
    this.syncNow();
    this.closeFd();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.syncing) return;
    const wait = Math.max(0, this.lastSyncAt + this.o.commitIntervalMs - Date.now());
    this.timer = setTimeout(() => this.commit(), wait);
  }

  /** The group commit: write the gathered group, fdatasync in the background, then release who waited for it. */
  private commit(): void {
    this.timer = undefined;
    this.writeGroup();
    const released = this.waiters.splice(0);
    if (!this.unsynced || this.fd === undefined) {
      for (const release of released) release();
      return;
    }
    this.syncing = true;
    this.unsynced = false;
    this.lastSyncAt = Date.now();
    const fd = this.fd;
    fdatasync(fd, (err) => {
      this.syncing = false;
      for (const old of this.retired.splice(0)) closeSync(old);
      // Not durable after all: acknowledging would tell the broker to forget them.
      if (err) this.onUnprotected(0, `fdatasync of the write-ahead log failed: ${err.message}`);
      for (const release of released) release();
      if (this.text !== '' || this.unsynced || this.waiters.length > 0) this.schedule();
    });
  }

  /** Writes the gathered readings as one record (or counts them unprotected at the bound). */
  private writeGroup(): void {
    if (this.text === '') return;
    const text = `${this.text}\n`;
    const readings = this.readings;
    this.text = '';
    this.readings = 0;
    this.lineDevice = undefined;
    if (!this.write(EntryKind.readings, readings, text, false))
      this.onUnprotected(readings, `write-ahead log full (maxWalBytes ${this.o.maxWalBytes})`);
  }

  /** Appends a record to the active segment; false when it would pass the bound (markers may: they are small and needed). */
  private write(kind: number, readings: number, text: string, always: boolean): boolean {
    const record = encodeRecord({ seq: this.record, readings, windows: kind }, text);
    if (!always && this.total + record.length > this.o.maxWalBytes) return false;
    this.record++;
    writeSync(this.fd!, record);
    this.segments.at(-1)!.size += record.length;
    this.total += record.length;
    this.unsynced = true;
    return true;
  }

  /** fsync now (markers): what was written is durable, so everyone waiting may go. */
  private syncNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.unsynced && this.fd !== undefined) fsyncSync(this.fd);
    this.unsynced = false;
    for (const release of this.waiters.splice(0)) release();
  }

  private roll(): void {
    this.closeFd();
    const gen = (this.segments.at(-1)?.gen ?? -1) + 1;
    const segment: Segment = { gen, path: join(this.o.dir, segmentName(gen)), size: 0 };
    this.fd = openSync(segment.path, 'a');
    this.segments.push(segment);
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    if (this.syncing) this.retired.push(this.fd);
    else closeSync(this.fd);
    this.fd = undefined;
  }
}
