import { decodeFloats, encodeFloats } from './float-ring.js';
import { LogHistogram, type LogHistogramState } from './log-histogram.js';
import { Slab } from './slab.js';

/**
 * The last `capacity` values of a statistic, as the window rules read them (median, MAD and
 * quantiles for the usual spread, the extremes for the envelope), in a few hundred bytes where the
 * exact sorted history took 8 bytes a value (12 kB at a day of minute windows): the body from a
 * fading log histogram (log-histogram.ts) with a time constant of `capacity` values (its effective
 * sample size twice the exact history's, which keeps its 99th percentile of a few hundred windows
 * as steady as the exact one's: with the history's own effective size it strayed further), the
 * extremes exact, from a ring of the largest and smallest value of each of up to CHUNKS stretches
 * of the history (the oldest stretch leaves whole, so they span `capacity` to `capacity` + one
 * stretch), kept in the histogram's array ahead of its bins (grown a stretch at a time: a young
 * series holds what it has seen). Quantiles are kept within the extremes.
 */
export interface RecentValuesState {
  body: LogHistogramState;
  /** Per stretch, in the ring's order: [max, min] pairs, float32, as base64. */
  extremes: string;
  /** The stretch being filled, the values in it, and in all (up to capacity). */
  head: number;
  fill: number;
  n: number;
}

/** Stretches the extremes are kept in (an hour each, at a day's history). */
const CHUNKS = 24;

export class RecentValues extends LogHistogram {
  /** The stretch being filled, the values in it, and in all (up to capacity). */
  private head: number;
  private fill: number;
  private n: number;

  /** `floorLog2`: log2 of the smallest magnitude told from zero (see LogHistogram). */
  constructor(
    readonly capacity: number,
    floorLog2: number,
    state?: RecentValuesState,
    /** The owner's (one buffer for all of a detector's arrays), else one of its own. */
    slab: Slab = new Slab(),
  ) {
    const extremes = state ? decodeFloats(state.extremes) : undefined;
    // Its array begins with [max, min] of each stretch (the histogram's `reserved`), its float64s
    // after the histogram's are the cached reads (CACHED: one region a statistic, not three).
    super(Math.max(1, capacity * Math.LN2), floorLog2, state?.body, extremes?.length ?? 0, slab);
    for (let i = 0; i < CACHED; i++) this.setNum(i, Number.NaN);
    if (extremes) this.reserved.set(extremes, this.base);
    this.head = state?.head ?? 0;
    this.fill = state?.fill ?? 0;
    this.n = state?.n ?? 0;
  }

  protected override get ownerScalars(): number {
    return CACHED;
  }

  /** Values a stretch holds (a getter: a field in each of its objects is 8 bytes). */
  private get chunk(): number {
    return Math.ceil(this.capacity / CHUNKS);
  }

  /** Stretches in the ring: those the history spans, and the one being filled. */
  private get slots(): number {
    return Math.ceil(this.capacity / this.chunk) + 1;
  }

  /** Values held (at most `capacity`), as an exact history would hold them. */
  get length(): number {
    return this.n;
  }

  override push(x: number): void {
    if (!Number.isFinite(x)) return;
    super.push(x);
    // The cached reads forgotten (the push may have moved them).
    for (let i = 0; i < CACHED; i++) this.setNum(i, Number.NaN);
    if (this.n < this.capacity) this.n++;
    const e = this.reserved;
    if (this.fill > 0 && this.fill < this.chunk) {
      const i = this.base + 2 * this.head;
      if (x > e[i]!) e[i] = x;
      if (x < e[i + 1]!) e[i + 1] = x;
      this.fill++;
      return;
    }
    // A new stretch: the ring grows by one until it spans the history, then the oldest is overwritten.
    const used = this.used;
    if (used < this.slots) {
      this.reserveRoom(2 * (used + 1));
      this.head = used;
    } else this.head = (this.head + 1) % this.slots;
    const grown = this.reserved;
    const b = this.base;
    grown[b + 2 * this.head] = x;
    grown[b + 2 * this.head + 1] = x;
    this.fill = 1;
  }

  /** Stretches begun (up to `slots`): the ring's size, as it fills from 0 before it wraps. */
  private get used(): number {
    return this.fill === 0 ? 0 : this.reserveLength >> 1;
  }

  /**
   * The q-quantile (0 … 1): 0 and 1 the exact extremes, between them the histogram's; NaN when
   * empty. Read afresh each time (a walk of a few bins from the nearer end: caching the 10th, 90th
   * and 99th percentiles until the next push took 24 bytes a history; most windows push).
   */
  override quantile(q: number): number {
    return this.read(q);
  }

  private read(q: number): number {
    if (this.n === 0) return Number.NaN;
    // An extreme reads its own half of the ring only (the envelope asks for both every window).
    if (q >= 1) return this.max();
    if (q <= 0) return this.min();
    // Read as the exact history's order statistics: a value weighs the mass over the values held.
    const v = super.quantile(q, this.mass / this.n);
    // Kept within the extremes; mostly it lies within the first stretches' (±0 clamped as before).
    if (v !== 0 && this.within(v)) return v;
    return Math.min(this.max(), Math.max(this.min(), v));
  }

  /** Whether some stretch's maximum is at least v and some stretch's minimum at most v (false for NaN). */
  private within(v: number): boolean {
    const e = this.reserved;
    const b = this.base;
    const end = b + 2 * this.used;
    let above = false;
    let below = false;
    for (let i = b; i < end; i += 2) {
      if (e[i]! >= v) above = true;
      if (e[i + 1]! <= v) below = true;
      if (above && below) return true;
    }
    return false;
  }

  median(): number {
    let mid = this.num(MID);
    if (Number.isNaN(mid)) this.setNum(MID, (mid = this.read(0.5)));
    return mid;
  }

  override mad(center: number): number {
    if (this.n === 0) return Number.NaN;
    if (center !== this.median()) return super.mad(center);
    // Half the values lie between the 10th and 90th percentiles' farther distance from the median.
    const upper = Math.max(center - this.quantile(0.1), this.quantile(0.9) - center);
    let mad = this.num(MAD_AT_MID);
    if (Number.isNaN(mad)) this.setNum(MAD_AT_MID, (mad = super.mad(center, upper > 0 ? upper : undefined)));
    return mad;
  }

  snapshot(): RecentValuesState {
    const e = this.reserved;
    const b = this.base;
    return {
      body: this.histogramState(),
      extremes: encodeFloats(e.subarray(b, b + this.reserveLength)),
      head: this.head,
      fill: this.fill,
      n: this.n,
    };
  }

  /**
   * Whether x is at most the largest value held (`eitherWay`: or at most −(the smallest)), as
   * `x <= quantile(1)` tells, but stopping at the first stretch whose extreme does (a usual value
   * is exceeded in the newest stretches). False when x is NaN or nothing is held.
   */
  reaches(x: number, eitherWay: boolean): boolean {
    const e = this.reserved;
    const b = this.base;
    const end = b + 2 * this.used;
    for (let i = b; i < end; i += 2) if (e[i]! >= x || (eitherWay && -e[i + 1]! >= x)) return true;
    return false;
  }

  /** The stretches begun are the ring's first `used` (it fills from 0 before it wraps). */
  private max(): number {
    const e = this.reserved;
    const b = this.base;
    let m = -Infinity;
    // The end read once: `used` is a slab read.
    const end = b + 2 * this.used;
    for (let i = b; i < end; i += 2) if (e[i]! > m) m = e[i]!;
    return m;
  }

  private min(): number {
    const e = this.reserved;
    const b = this.base;
    let m = Infinity;
    const end = b + 2 * this.used;
    for (let i = b + 1; i < end; i += 2) if (e[i]! < m) m = e[i]!;
    return m;
  }
}

/**
 * What the window rules read of it several times a window, cached until the next push (NaN: to be
 * read): the median, and the MAD about it (a bisection of some twenty log2s); float64s of its
 * region after the histogram's (numbers in fields would be a 16-byte heap object each).
 */
const MID = 0;
const MAD_AT_MID = 1;
const CACHED = 2;
