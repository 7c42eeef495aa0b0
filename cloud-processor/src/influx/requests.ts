import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { EncodedLines, Lines } from '@tributary/storage';
import { bodyBytes, type Body } from './http-client.js';

const gzip = promisify(gzipCallback);
const NEWLINE_BYTES = Buffer.from('\n');

/** What became of a submitted group of lines (one batch's points) once none is pending. */
export interface WriteReport {
  /** Lines InfluxDB refused, now in the dead-letter file. */
  readonly deadLettered: number;
  /** Lines InfluxDB refused that the full dead-letter file could not take (counted, dropped). */
  readonly dropped: number;
}

const NEWLINE = 0x0a;

/**
 * One submitted group of lines, settled when every line is durable or dead-lettered. The lines are
 * kept as one UTF-8 buffer, made when the job is submitted, with the offset of each line: a
 * batch's points are a few hundred bytes a line this way (as strings built piece by piece they
 * are several times that), the strings are garbage at once instead of living until the write,
 * and request bodies are cut from the buffer by copying. A line never holds a raw newline (the
 * encoder escapes it), so the newlines between them are where lines start.
 */
export class Job {
  /** Lines neither written nor dead-lettered yet. */
  remaining: number;
  deadLettered = 0;
  dropped = 0;
  /** The lines joined by newlines, UTF-8. */
  readonly bytes: Buffer;
  /** Where line i starts in `bytes`; starts[count] is one past the end (where a next line would start). */
  private readonly starts: Uint32Array;

  constructor(
    lines: Lines,
    private readonly onDone: (report: WriteReport) => void,
    /** Rejects the job's promise (the writer is stopping). */
    readonly abort: (err: Error) => void,
  ) {
    this.remaining = lines.length;
    if (!Array.isArray(lines)) {
      // Encoded as bytes already (PointEncoder.batchBytes), with where each line starts.
      const encoded = lines as EncodedLines;
      this.bytes = encoded.bytes;
      this.starts = encoded.starts;
      return;
    }
    this.bytes = Buffer.from(lines.join('\n'));
    this.starts = new Uint32Array(lines.length + 1);
    for (let i = 1, at = 0; i < lines.length; i++) {
      at = this.bytes.indexOf(NEWLINE, at) + 1;
      this.starts[i] = at;
    }
    this.starts[lines.length] = this.bytes.length + 1;
  }

  /** Lines in the job. */
  get count(): number {
    return this.starts.length - 1;
  }

  /** Lines [from, to) as bytes joined by newlines (no newline at the end). */
  range(from: number, to: number): Buffer {
    return this.bytes.subarray(this.starts[from], this.starts[to]! - 1);
  }

  /** Line i as text. */
  line(i: number): string {
    return this.bytes.toString('utf8', this.starts[i], this.starts[i + 1]! - 1);
  }

  /** Marks `n` lines settled; calls back once all are. */
  settle(n: number, deadLettered = 0, dropped = 0): void {
    this.remaining -= n;
    this.deadLettered += deadLettered;
    this.dropped += dropped;
    if (this.remaining === 0) this.onDone({ deadLettered: this.deadLettered, dropped: this.dropped });
  }
}

/** Lines [from, to) of a job; `at` is when they were submitted. */
export interface Segment {
  readonly job: Job;
  readonly from: number;
  readonly to: number;
  readonly at: number;
}

/**
 * One write request: consecutive segments, possibly of several jobs. The body is made once and
 * kept for retries: the segments' bytes as parts, views of their jobs' buffers (not copied into one
 * buffer: a request of 5,000 lines was 1.2 MB copied, and garbage once written), or gzipped.
 */
export class WriteRequest {
  readonly lines: number;
  body: Body | undefined;
  gzipped = false;

  constructor(readonly segments: readonly Segment[]) {
    let n = 0;
    for (const s of segments) n += s.to - s.from;
    this.lines = n;
  }

  /** Makes the body once (kept for retries): gzipped (level 1, off the main thread) from `gzipFromBytes` on. */
  async prepare(gzipFromBytes: number): Promise<void> {
    const parts = this.parts();
    this.gzipped = bodyBytes(parts) >= gzipFromBytes;
    this.body = this.gzipped ? await gzip(Buffer.concat(parts), { level: 1 }) : parts;
  }

  /** The line protocol in parts: each segment's lines (views of its job's buffer), newlines between them. */
  parts(): Buffer[] {
    const parts: Buffer[] = [];
    for (const s of this.segments) {
      if (parts.length > 0) parts.push(NEWLINE_BYTES);
      parts.push(s.job.range(s.from, s.to));
    }
    return parts;
  }

  /** The line protocol: lines joined by newlines, UTF-8 (copied from the jobs' buffers). */
  bytes(): Buffer {
    const parts = this.parts();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The line protocol text: lines joined by newlines. */
  text(): string {
    return this.bytes().toString('utf8');
  }

  /** Every line, in order. */
  allLines(): string[] {
    const lines: string[] = [];
    for (const s of this.segments) for (let i = s.from; i < s.to; i++) lines.push(s.job.line(i));
    return lines;
  }

  /** Two requests holding the first and the second half of the lines (for 413, and to find refused points). */
  halves(): [WriteRequest, WriteRequest] {
    const first: Segment[] = [];
    const second: Segment[] = [];
    let need = Math.ceil(this.lines / 2);
    for (const s of this.segments) {
      const n = s.to - s.from;
      if (need >= n) {
        first.push(s);
        need -= n;
      } else if (need > 0) {
        first.push({ ...s, to: s.from + need });
        second.push({ ...s, from: s.from + need });
        need = 0;
      } else {
        second.push(s);
      }
    }
    return [new WriteRequest(first), new WriteRequest(second)];
  }

  /** Marks every line of the request settled in its job. */
  settle(deadLettered: boolean, dropped = 0): void {
    let droppedLeft = dropped;
    for (const s of this.segments) {
      const n = s.to - s.from;
      const d = Math.min(n, droppedLeft);
      droppedLeft -= d;
      s.job.settle(n, deadLettered ? n - d : 0, d);
    }
  }
}

/** What a queue slot holds once its segment was taken. */
const TAKEN: Segment = {
  job: new Job(
    [],
    () => undefined,
    () => undefined,
  ),
  from: 0,
  to: 0,
  at: 0,
};

/**
 * The lines waiting for a request, in submission order. `take(max)` cuts the next request,
 * splitting a job's lines across requests where needed.
 */
export class LineQueue {
  /** Taken segments are cleared (undefined) at once: a job's lines belong to its request from then on. */
  private segments: Array<Segment | undefined> = [];
  private head = 0;
  private count = 0;

  get lines(): number {
    return this.count;
  }

  /** When the oldest waiting line was submitted (undefined when empty). */
  get oldestAt(): number | undefined {
    return this.segments[this.head]?.at;
  }

  push(job: Job, at: number): void {
    if (job.count === 0) return;
    this.segments.push({ job, from: 0, to: job.count, at });
    this.count += job.count;
  }

  take(max: number): WriteRequest | undefined {
    if (this.count === 0) return undefined;
    const out: Segment[] = [];
    let room = max;
    while (room > 0 && this.head < this.segments.length) {
      const s = this.segments[this.head]!;
      const n = s.to - s.from;
      if (n <= room) {
        out.push(s);
        room -= n;
        // Let go of it here: a taken job is the request's to keep (until it is written), not the queue's.
        this.segments[this.head++] = TAKEN;
      } else {
        out.push({ ...s, to: s.from + room });
        this.segments[this.head] = { ...s, from: s.from + room };
        room = 0;
      }
    }
    const req = new WriteRequest(out);
    this.count -= req.lines;
    if (this.head === this.segments.length) {
      this.segments = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.segments.length) {
      this.segments = this.segments.slice(this.head);
      this.head = 0;
    }
    return req;
  }

  /** Empties the queue, returning the jobs that had lines in it. */
  clear(): Job[] {
    const jobs = this.segments.slice(this.head).map((s) => s!.job);
    this.segments = [];
    this.head = 0;
    this.count = 0;
    return jobs;
  }
}
