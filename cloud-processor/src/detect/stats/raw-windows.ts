import type { SeriesPoint } from '../detector.js';

export interface RawWindowsState {
  /** The usual spacing of raw rows (ms), 0 until two were seen. */
  cadence: number;
  rows: number;
  lastTs: number | null;
  /** The window being filled: its start and its readings' aggregate, or null. */
  open: {
    start: number;
    count: number;
    mean: number;
    m2: number;
    min: number;
    max: number;
    first: number;
    last: number;
  } | null;
}

/** Rows over which the usual spacing is averaged. */
const CADENCE_SPAN = 16;

/**
 * What `push` returns, one array for every series of the thread (read before the next push): no
 * allocation per row, and no array a series (one each held 100-200 bytes of heap, and its last point).
 */
const OUT: SeriesPoint[] = [];

/**
 * A fast sensor's raw rows gathered into windows, as the edge agent gathers readings: aligned to
 * the epoch (`start = floor(ts / length) * length`), each closed by the first row of the next one,
 * with count, mean, spread (Welford), min, max, first and last. So a series replayed from CSV, or
 * a sensor read one value per row, gets what window aggregates get (spikes, steps, bursts, stuck
 * readings, drift), judged once a window instead of once a row. A series whose rows come no faster
 * than every half window is passed through row by row (a window of one reading says no more than
 * the reading); so are points that already are windows (count > 1). Bounded: one open window.
 */
export class RawWindows {
  private readonly s: RawWindowsState;

  constructor(
    private readonly lengthMs: number,
    state?: RawWindowsState,
  ) {
    this.s = state ? { ...state, open: state.open && { ...state.open } } : RawWindows.freshState();
  }

  /** The state of one that has seen no row. */
  static freshState(): RawWindowsState {
    return { cadence: 0, rows: 0, lastTs: null, open: null };
  }

  /** A state that has seen no row: restoring it is no different from making one at the first row. */
  static isFresh(s: RawWindowsState): boolean {
    return s.lastTs === null && s.open === null;
  }

  /**
   * The points to judge now that `p` has arrived: a window it closed, and `p` itself when it is not
   * gathered. The array is reused by the next call to any RawWindows' `push` (read it before).
   */
  push(p: SeriesPoint): readonly SeriesPoint[] {
    const s = this.s;
    const out = OUT;
    out.length = 0;
    if (p.count > 1 || !(this.lengthMs > 0)) {
      out.push(p);
      return out;
    }
    if (s.lastTs !== null && p.ts > s.lastTs)
      s.cadence += (p.ts - s.lastTs - s.cadence) / Math.min(++s.rows, CADENCE_SPAN);
    if (s.lastTs === null || p.ts > s.lastTs) s.lastTs = p.ts;
    const start = Math.floor(p.ts / this.lengthMs) * this.lengthMs;
    if (s.open !== null && s.open.start !== start) out.push(this.close());
    if (!(s.cadence > 0) || 2 * s.cadence > this.lengthMs) {
      out.push(p);
      return out;
    }
    const o = s.open;
    if (o === null) {
      s.open = { start, count: 1, mean: p.value, m2: 0, min: p.value, max: p.value, first: p.value, last: p.value };
    } else {
      o.count++;
      const d = p.value - o.mean;
      o.mean += d / o.count;
      o.m2 += d * (p.value - o.mean);
      if (p.value < o.min) o.min = p.value;
      if (p.value > o.max) o.max = p.value;
      o.last = p.value;
    }
    return out;
  }

  /**
   * When a row without a value at `ts` (every reading out of range) says the series spoke, for the
   * members that judge silence: where rows are gathered, as a row with a value there would say it
   * (it closes the window before its own, stamped with that window's end: see `close`), so they
   * keep the gathered cadence; where rows pass through, `ts` itself.
   */
  heardAt(ts: number): number {
    const s = this.s;
    if (!(this.lengthMs > 0) || !(s.cadence > 0) || 2 * s.cadence > this.lengthMs) return ts;
    return Math.floor(ts / this.lengthMs) * this.lengthMs;
  }

  snapshot(): RawWindowsState {
    return { ...this.s, open: this.s.open && { ...this.s.open } };
  }

  private close(): SeriesPoint {
    const o = this.s.open!;
    this.s.open = null;
    const stddev = o.count > 1 ? Math.sqrt(o.m2 / (o.count - 1)) : 0;
    return {
      ts: o.start + this.lengthMs,
      value: o.mean,
      min: o.min,
      max: o.max,
      stddev,
      count: o.count,
      first: o.first,
      last: o.last,
    };
  }
}
