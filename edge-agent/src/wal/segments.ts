import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecordAt } from '../spool/record.js';
import { decodeMarker, EntryKind } from './entries.js';

/** One record as read back at start: the segment it is in, its kind, its payload. */
export interface WalEntry {
  readonly gen: number;
  readonly kind: number;
  readonly text: string;
}

export interface Segment {
  readonly gen: number;
  readonly path: string;
  size: number;
}

/** What opening the log found. */
export interface WalOpening {
  readonly segments: number;
  readonly bytes: number;
  readonly tornRecords: number;
  readonly problems: readonly string[];
}

/** The segments a log directory holds, as `readSegments` found them. */
export interface SegmentsFound {
  readonly segments: Segment[];
  /** The record number after the highest found (records are numbered across segments). */
  readonly nextRecord: number;
  /** The newest segment that begins with a full marker (else the first): recovery needs nothing older. */
  readonly fullGen: number;
  readonly opening: WalOpening;
}

/**
 * Makes the directory if need be and reads the segments there, in order; a torn tail of the last
 * one (the only one appended to) is cut off so appends continue cleanly, and counted.
 */
export function readSegments(dir: string): SegmentsFound {
  mkdirSync(dir, { recursive: true });
  const segments: Segment[] = [];
  const problems: string[] = [];
  let torn = 0;
  let nextRecord = 0;
  let fullGen = 0;
  let total = 0;
  const files = readdirSync(dir)
    .filter((f) => /^\d{16}\.wal$/.test(f))
    .sort();
  for (const [i, file] of files.entries()) {
    const segment: Segment = { gen: Number(file.slice(0, 16)), path: join(dir, file), size: 0 };
    const bytes = readFileSync(segment.path);
    let offset = 0;
    while (offset < bytes.length) {
      const r = decodeRecordAt(bytes, offset);
      if (!r.ok) {
        torn++;
        problems.push(`${file} at byte ${offset}: ${r.reason}; ${bytes.length - offset} bytes skipped`);
        break;
      }
      nextRecord = Math.max(nextRecord, r.meta.seq + 1);
      if (
        offset === 0 &&
        r.meta.windows === EntryKind.marker &&
        decodeMarker(bytes.toString('utf8', r.payloadOffset, r.payloadOffset + r.payloadLength))?.full === true
      )
        fullGen = segment.gen;
      offset += r.size;
    }
    if (offset < bytes.length && i === files.length - 1) {
      const fd = openSync(segment.path, 'r+');
      ftruncateSync(fd, offset);
      fsyncSync(fd);
      closeSync(fd);
    }
    segment.size = offset;
    if (i === 0) fullGen = segment.gen;
    segments.push(segment);
    total += offset;
  }
  return {
    segments,
    nextRecord,
    fullGen,
    opening: { segments: segments.length, bytes: total, tornRecords: torn, problems },
  };
}

/** Every record of `segments` up to their sizes at opening, in order (read again from the files each time; for recovery). */
export function* segmentEntries(segments: readonly Segment[]): Generator<WalEntry> {
  for (const segment of segments) {
    const bytes = readFileSync(segment.path);
    let offset = 0;
    while (offset < Math.min(bytes.length, segment.size)) {
      const r = decodeRecordAt(bytes, offset);
      if (!r.ok) break;
      yield {
        gen: segment.gen,
        kind: r.meta.windows,
        text: bytes.toString('utf8', r.payloadOffset, r.payloadOffset + r.payloadLength),
      };
      offset += r.size;
    }
  }
}
