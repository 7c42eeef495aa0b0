import type { ReadingsWindow } from '@tributary/firmware-schemas';
import type { LineBytes } from './line-bytes.js';
import { windowStddev, type WindowInput } from './window-input.js';

/**
 * A plain window's fields and timestamp, written straight into the batch's bytes: ` count=…i,sum=…,
 * …,length_ms=…i <end>`, the fields in WINDOW_FIELD's order and form, as the LineBuilder writes
 * them (PointEncoder.windowByBuilder is the reference; points.test.ts checks both give one line).
 */
export function writeWindowFields(out: LineBytes, w: ReadingsWindow, tails: WindowTails): void {
  out.field(' count=', w.count);
  out.field('i,sum=', w.sum);
  out.field(',min=', w.min);
  out.field(',max=', w.max);
  out.field(',mean=', w.mean);
  out.field(',stddev=', windowStddev(w));
  out.field(',first=', w.first);
  out.field(',last=', w.last);
  const q = w.quantiles;
  if (q !== undefined) {
    out.field(',p50=', q.p50);
    out.field(',p90=', q.p90);
    out.field(',p99=', q.p99);
  }
  // Readings the agent's range filter removed: replay needs them to alert as live did.
  if (w.outOfRange) out.field(',out_of_range=', Math.trunc(w.outOfRange), 'i');
  out.text(tails.of(Math.trunc(w.end - w.start), Math.trunc(w.end)));
}

/**
 * The end of a window's line, `,length_ms=…i <end>`, remembered for the last length and end: the
 * windows of a batch mostly share both (one text for them instead of two numbers each).
 */
export class WindowTails {
  private lengthMs = Number.NaN;
  private end = Number.NaN;
  private text = '';

  of(lengthMs: number, end: number): string {
    if (lengthMs !== this.lengthMs || end !== this.end) {
      this.lengthMs = lengthMs;
      this.end = end;
      this.text = `,length_ms=${lengthMs}i ${end}`;
    }
    return this.text;
  }
}

/** Whether a window with readings is one PointEncoder writes piece by piece: a first emission as the batch schema admits it (finite numbers, an integer count). */
export function plainWindow(w: ReadingsWindow, judged: WindowInput | undefined): boolean {
  const { count, sum, min, max, mean, first, last, quantiles: q } = w;
  return (
    w.rev === 0 &&
    judged === undefined &&
    Number.isSafeInteger(count) &&
    Number.isFinite(sum + min + max + mean + windowStddev(w) + first + last + (w.end - w.start)) &&
    (q === undefined || Number.isFinite(q.p50 + q.p90 + q.p99)) &&
    (w.outOfRange === undefined || Number.isFinite(w.outOfRange))
  );
}
