import { decodeFloats, encodeFloats } from './float-ring.js';
import { LogHistogram, type LogHistogramState } from './log-histogram.js';

/**
 * The last `capacity` values of a statistic, as the window rules read them (median, MAD and
 * quantiles for the usual spread, the extremes for the envelope), in a few hundred bytes where the
 * exact sorted history took 8 bytes a value (12 kB at a day of minute windows): the body from a
 * fading log histogram (log-histogram.ts) with the sliding window's effective sample size, the
 * extremes exact, from a ring of the largest and smallest value of each of up to CHUNKS stretches
 * of the history (the oldest stretch leaves whole, so they span `capacity` to `capacity` + one
 * stretch). Quantiles are kept within the extremes.
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
const NONE = new Float32Array(0);
/** Half-life, in values, of the fading histogram whose effective sample size is a sliding window's (see log-histogram.ts). */
const HALF_LIFE_PER_VALUE = Math.LN2;

export class RecentValues {
  private readonly body: LogHistogram;
  /** [max, min] per stretch in a ring; `head` the stretch being filled. */
  private extremes: Float32Array;
  private head: number;
  private fill: number;
  private n: number;
  private readonly chunk: number;
  /** Cached median (NaN: to be read again after a push). */
  private mid = Number.NaN;

  /** `floorLog2`: log2 of the smallest magnitude told from zero (see LogHistogram). */
  constructor(
    readonly capacity: number,
    floorLog2: number,
    state?: RecentValuesState,
  ) {
    this.chunk = Math.ceil(capacity / CHUNKS);
    this.body = new LogHistogram(Math.max(1, capacity * HALF_LIFE_PER_VALUE), floorLog2, state?.body);
    this.extremes = state ? decodeFloats(state.extremes) : NONE;
    this.head = state?.head ?? 0;
    this.fill = state?.fill ?? 0;
    this.n = state?.n ?? 0;
  }

  /** Values held (at most `capacity`), as an exact history would hold them. */
  get length(): number {
    return this.n;
  }

  push(x: number): void {
    this.body.push(x);
    this.mid = Number.NaN;
    if (this.n < this.capacity) this.n++;
    const e = this.extremes;
    if (this.fill > 0 && this.fill < this.chunk) {
      const i = 2 * this.head;
      if (x > e[i]!) e[i] = x;
      if (x < e[i + 1]!) e[i + 1] = x;
      this.fill++;
      return;
    }
    // A new stretch: the ring grows to the stretches the history spans plus the one being filled, then wraps.
    const slots = Math.ceil(this.capacity / this.chunk) + 1;
    if (e.length === 0) this.head = 0;
    else if (e.length < 2 * slots) {
      const grown = new Float32Array(e.length + 2);
      grown.set(e);
      this.extremes = grown;
      this.head = e.length >> 1;
    } else this.head = (this.head + 1) % slots;
    if (this.extremes.length === 0) this.extremes = new Float32Array(2);
    this.extremes[2 * this.head] = x;
    this.extremes[2 * this.head + 1] = x;
    this.fill = 1;
  }

  /** The q-quantile (0 … 1): 0 and 1 the exact extremes, between them the histogram's; NaN when empty. */
  quantile(q: number): number {
    if (this.n === 0) return Number.NaN;
    const max = this.max();
    const min = this.min();
    if (q >= 1) return max;
    if (q <= 0) return min;
    // Read as the exact history's order statistics: a value weighs the mass over the values held.
    return Math.min(max, Math.max(min, this.body.quantile(q, this.body.mass / this.n)));
  }

  median(): number {
    if (Number.isNaN(this.mid)) this.mid = this.quantile(0.5);
    return this.mid;
  }

  mad(center: number): number {
    return this.n === 0 ? Number.NaN : this.body.mad(center);
  }

  snapshot(): RecentValuesState {
    return {
      body: this.body.snapshot(),
      extremes: encodeFloats(this.extremes),
      head: this.head,
      fill: this.fill,
      n: this.n,
    };
  }

  private max(): number {
    let m = -Infinity;
    for (let i = 0; i < this.extremes.length; i += 2) if (this.extremes[i]! > m) m = this.extremes[i]!;
    return m;
  }

  private min(): number {
    let m = Infinity;
    for (let i = 1; i < this.extremes.length; i += 2) if (this.extremes[i]! < m) m = this.extremes[i]!;
    return m;
  }
}
