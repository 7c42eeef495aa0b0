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

export class RecentValues {
  /** The body, whose array begins with [max, min] of each stretch (see LogHistogram's `reserved`). */
  private readonly body: LogHistogram;
  /** Stretches in the ring: those the history spans, and the one being filled. */
  private readonly slots: number;
  /** The stretch being filled. */
  private head: number;
  private fill: number;
  private n: number;
  private readonly chunk: number;
  /**
   * What the window rules read of it each window, cached until the next push (NaN: to be read):
   * the median, the MAD about it, and the 10th, 90th and 99th percentiles; in a region of the
   * slab (float64: numbers in fields would be a 16-byte heap object each).
   */
  private readonly scalars: number;
  private readonly slab: Slab;

  private get mid(): number {
    return this.slab.num(this.scalars, 0);
  }

  private set mid(x: number) {
    this.slab.setNum(this.scalars, 0, x);
  }

  private get madAtMid(): number {
    return this.slab.num(this.scalars, 1);
  }

  private set madAtMid(x: number) {
    this.slab.setNum(this.scalars, 1, x);
  }

  private get q10(): number {
    return this.slab.num(this.scalars, 2);
  }

  private set q10(x: number) {
    this.slab.setNum(this.scalars, 2, x);
  }

  private get q90(): number {
    return this.slab.num(this.scalars, 3);
  }

  private set q90(x: number) {
    this.slab.setNum(this.scalars, 3, x);
  }

  private get q99(): number {
    return this.slab.num(this.scalars, 4);
  }

  private set q99(x: number) {
    this.slab.setNum(this.scalars, 4, x);
  }

  /** `floorLog2`: log2 of the smallest magnitude told from zero (see LogHistogram). */
  constructor(
    readonly capacity: number,
    floorLog2: number,
    state?: RecentValuesState,
    /** The owner's (one buffer for all of a detector's arrays), else one of its own. */
    slab: Slab = new Slab(),
  ) {
    this.slab = slab;
    this.scalars = slab.alloc(5 * 8);
    this.mid = this.madAtMid = this.q10 = this.q90 = this.q99 = Number.NaN;
    this.chunk = Math.ceil(capacity / CHUNKS);
    this.slots = Math.ceil(capacity / this.chunk) + 1;
    const extremes = state ? decodeFloats(state.extremes) : undefined;
    this.body = new LogHistogram(Math.max(1, capacity * Math.LN2), floorLog2, state?.body, extremes?.length ?? 0, slab);
    if (extremes) this.body.reserved.set(extremes, this.body.base);
    this.head = state?.head ?? 0;
    this.fill = state?.fill ?? 0;
    this.n = state?.n ?? 0;
  }

  /** Values held (at most `capacity`), as an exact history would hold them. */
  get length(): number {
    return this.n;
  }

  push(x: number): void {
    if (!Number.isFinite(x)) return;
    this.body.push(x);
    // The cached reads forgotten: one slab read for the five (the push may have moved them).
    const o = this.slab.at(this.scalars) >> 3;
    this.slab.f64.fill(Number.NaN, o, o + 5);
    if (this.n < this.capacity) this.n++;
    const e = this.body.reserved;
    if (this.fill > 0 && this.fill < this.chunk) {
      const i = this.body.base + 2 * this.head;
      if (x > e[i]!) e[i] = x;
      if (x < e[i + 1]!) e[i + 1] = x;
      this.fill++;
      return;
    }
    // A new stretch: the ring grows by one until it spans the history, then the oldest is overwritten.
    const used = this.used;
    if (used < this.slots) {
      this.body.reserveRoom(2 * (used + 1));
      this.head = used;
    } else this.head = (this.head + 1) % this.slots;
    const grown = this.body.reserved;
    const b = this.body.base;
    grown[b + 2 * this.head] = x;
    grown[b + 2 * this.head + 1] = x;
    this.fill = 1;
  }

  /** Stretches begun (up to `slots`): the ring's size, as it fills from 0 before it wraps. */
  private get used(): number {
    return this.fill === 0 ? 0 : this.body.reserveLength >> 1;
  }

  /** The q-quantile (0 … 1): 0 and 1 the exact extremes, between them the histogram's; NaN when empty. */
  quantile(q: number): number {
    if (q === 0.1) return Number.isNaN(this.q10) ? (this.q10 = this.read(q)) : this.q10;
    if (q === 0.9) return Number.isNaN(this.q90) ? (this.q90 = this.read(q)) : this.q90;
    if (q === 0.99) return Number.isNaN(this.q99) ? (this.q99 = this.read(q)) : this.q99;
    return this.read(q);
  }

  private read(q: number): number {
    if (this.n === 0) return Number.NaN;
    // An extreme reads its own half of the ring only (the envelope asks for both every window).
    if (q >= 1) return this.max();
    if (q <= 0) return this.min();
    // Read as the exact history's order statistics: a value weighs the mass over the values held.
    const v = this.body.quantile(q, this.body.mass / this.n);
    // Kept within the extremes; mostly it lies within the first stretches' (±0 clamped as before).
    if (v !== 0 && this.within(v)) return v;
    return Math.min(this.max(), Math.max(this.min(), v));
  }

  /** Whether some stretch's maximum is at least v and some stretch's minimum at most v (false for NaN). */
  private within(v: number): boolean {
    const e = this.body.reserved;
    const b = this.body.base;
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
    if (Number.isNaN(this.mid)) this.mid = this.read(0.5);
    return this.mid;
  }

  mad(center: number): number {
    if (this.n === 0) return Number.NaN;
    if (center !== this.median()) return this.body.mad(center);
    // Half the values lie between the 10th and 90th percentiles' farther distance from the median.
    const upper = Math.max(center - this.quantile(0.1), this.quantile(0.9) - center);
    if (Number.isNaN(this.madAtMid)) this.madAtMid = this.body.mad(center, upper > 0 ? upper : undefined);
    return this.madAtMid;
  }

  snapshot(): RecentValuesState {
    const e = this.body.reserved;
    const b = this.body.base;
    return {
      body: this.body.snapshot(),
      extremes: encodeFloats(e.subarray(b, b + this.body.reserveLength)),
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
    const e = this.body.reserved;
    const b = this.body.base;
    const end = b + 2 * this.used;
    for (let i = b; i < end; i += 2) if (e[i]! >= x || (eitherWay && -e[i + 1]! >= x)) return true;
    return false;
  }

  /** The stretches begun are the ring's first `used` (it fills from 0 before it wraps). */
  private max(): number {
    const e = this.body.reserved;
    const b = this.body.base;
    let m = -Infinity;
    // The end read once: `used` is a slab read.
    const end = b + 2 * this.used;
    for (let i = b; i < end; i += 2) if (e[i]! > m) m = e[i]!;
    return m;
  }

  private min(): number {
    const e = this.body.reserved;
    const b = this.body.base;
    let m = Infinity;
    const end = b + 2 * this.used;
    for (let i = b + 1; i < end; i += 2) if (e[i]! < m) m = e[i]!;
    return m;
  }
}
