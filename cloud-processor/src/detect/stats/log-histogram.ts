import { decodeFloats, encodeFloats } from './float-ring.js';
import { Slab } from './slab.js';

/**
 * A series' recent values as a histogram of fixed log-spaced bins (16 an octave, each side of zero)
 * whose old weight fades: O(bins in use) state, however long the history, where an exact sorted
 * history of a day's windows costs kilobytes a statistic. Quantiles and the MAD are read with the
 * mass spread evenly (in log) over each bin, so an answer is within a bin's width (4.4 %) of the
 * weighted order statistic it stands for (log-histogram.test.ts checks the bound against exact
 * quantiles); magnitudes below 2^floorLog2 share one bin around zero, the absolute resolution.
 *
 * Fading: each value weighs 2^(1/halfLife) times the one before (weights grow instead of old
 * counts shrinking: O(1) a push, as in tail-calibrator.ts), so a value `halfLife` pushes old counts
 * half as much as the newest; its effective sample size ((Σw)² / Σw²) is 2 halfLife / ln 2.
 *
 * Only the bins in use are allocated (float32: a weight needs no more), grown as values land
 * outside them, up to MAX_SPAN bins: beyond that the lowest fold into their neighbour, or a value
 * below the range joins its lowest bin (a series' values span a few octaves, not 16). The array
 * may begin with `reserve` floats its owner keeps there (one region, not two, a statistic), and
 * lives in a region of the owner's slab (slab.ts: one buffer for all of a detector's arrays, where
 * a typed array each cost a hundred bytes or more of heap besides its values).
 */
export interface LogHistogramState {
  /** Key of the first bin held (0 the bin around zero, ±k the k-th bin above 2^floorLog2). */
  lo: number;
  /** The bins' float32 weights, lowest first, as base64. */
  bins: string;
  total: number;
  weight: number;
}

const BINS_PER_OCTAVE = 16;
/** Bins a histogram holds at most (20 octaves each side of zero: a guard against values of no common scale). */
const MAX_SPAN = 40 * BINS_PER_OCTAVE;
/** Bins of room beyond a new value when the range grows (a quarter octave: a young series' range is narrow). */
const SLACK = 4;
/** Weights grow instead of old ones shrinking; rescaled before float32 bins could overflow. */
const RESCALE_AT = 1e30;
/** Bin sums for one MAD's bisection (filled and read within one call: no state between calls). */
let scratch = new Float64Array(MAX_SPAN + 1);

export class LogHistogram {
  /** Region of the slab: the owner's `reserve` floats, then the bins' weights, lowest first (empty before any value). */
  private readonly region: number;
  private lo = 0;
  /** Region of the slab (float64): the total weight, the weight of the next value, and its growth a value (numbers in fields would be a 16-byte heap object each). */
  private readonly scalars: number;

  private get total(): number {
    return this.slab.num(this.scalars, 0);
  }

  private set total(x: number) {
    this.slab.setNum(this.scalars, 0, x);
  }

  private get weight(): number {
    return this.slab.num(this.scalars, 1);
  }

  private set weight(x: number) {
    this.slab.setNum(this.scalars, 1, x);
  }

  private get growth(): number {
    return this.slab.num(this.scalars, 2);
  }

  private set growth(x: number) {
    this.slab.setNum(this.scalars, 2, x);
  }

  constructor(
    halfLife: number,
    /** log2 of the smallest magnitude told from zero. */
    private readonly floorLog2: number,
    state?: LogHistogramState,
    /** Floats at the start of the array that are the owner's (see `reserved`, `reserveRoom`). */
    private reserve = 0,
    private readonly slab: Slab = new Slab(),
  ) {
    this.scalars = slab.alloc(3 * 8);
    this.weight = 1;
    this.growth = 2 ** (1 / halfLife);
    this.region = slab.alloc(0);
    if (state) {
      this.lo = state.lo;
      const bins = decodeFloats(state.bins);
      slab.resize(this.region, 4 * (reserve + bins.length));
      slab.f32.set(bins, this.base + reserve);
      this.total = state.total;
      this.weight = state.weight;
    }
  }

  /**
   * The array whose floats from `base` on are the owner's `reserve`, once a value was pushed (or a
   * state restored); read it and `base` afresh after each push, which may move them.
   */
  get reserved(): Float32Array {
    return this.slab.f32;
  }

  /** Index in `reserved` of the owner's first float. */
  get base(): number {
    return this.slab.at(this.region) >> 2;
  }

  /** Floats held: the owner's, then the bins. */
  private get floats(): number {
    return this.slab.bytes(this.region) >> 2;
  }

  /**
   * Makes the owner's part `floats` long (at least as long as it was; its floats keep their places,
   * the new ones are 0), once a value was pushed.
   */
  reserveRoom(floats: number): void {
    const b = this.base;
    const old = this.slab.f32.slice(b, b + this.floats);
    this.slab.resize(this.region, 4 * (floats + this.size), false);
    const grown = this.slab.f32;
    const g = this.base;
    grown.set(old.subarray(0, this.reserve), g);
    grown.set(old.subarray(this.reserve), g + floats);
    this.reserve = floats;
  }

  /** Floats of the array that are the owner's. */
  get reserveLength(): number {
    return this.reserve;
  }

  /** Bins held. */
  private get size(): number {
    const floats = this.floats;
    return floats === 0 ? 0 : floats - this.reserve;
  }

  push(x: number): void {
    if (!Number.isFinite(x)) return;
    const slot = this.slot(this.keyOf(x));
    const data = this.slab.f32;
    const b = this.base;
    data[b + this.reserve + slot]! += this.weight;
    this.total += this.weight;
    this.weight *= this.growth;
    if (this.weight > RESCALE_AT) {
      const k = 1 / this.weight;
      for (let j = b + this.reserve; j < b + this.floats; j++) data[j]! *= k;
      this.total *= k;
      this.weight = 1;
    }
  }

  /** The faded weight of all values held. */
  get mass(): number {
    return this.total;
  }

  /**
   * The q-quantile (0 … 1) of the faded values; NaN when empty. `unit`, the weight of one value,
   * reads it as order statistics are read (the value of rank q (n − 1), each value's mass centred
   * on it), where 0 takes the mass's q-point; the difference is half a value's rank either way,
   * which at the 99th percentile of a few hundred values is a tenth of their spread.
   */
  quantile(q: number, unit = 0): number {
    const n = this.size;
    // The total read once (a slab read each time).
    const total = this.total;
    if (total <= 0 || n === 0) return Number.NaN;
    const bins = this.slab.f32;
    const R = this.base + this.reserve;
    const u = Math.min(unit, total);
    if (q <= 0.5) {
      const target = q * (total - u) + u / 2;
      let cum = 0;
      for (let i = 0; i < n; i++) {
        const w = bins[R + i]!;
        if (w > 0 && cum + w >= target) return this.valueAt(this.lo + i, (target - cum) / w);
        cum += w;
      }
      return this.valueAt(this.lo + n - 1, 1);
    }
    // Upper quantiles from the top: fewer bins to walk.
    const target = (1 - q) * (total - u) + u / 2;
    let cum = 0;
    for (let i = n - 1; i >= 0; i--) {
      const w = bins[R + i]!;
      if (w > 0 && cum + w >= target) return this.valueAt(this.lo + i, 1 - (target - cum) / w);
      cum += w;
    }
    return this.valueAt(this.lo, 0);
  }

  /**
   * Median of |x − center| over the faded values: the distance d at which the mass within
   * [center − d, center + d] is half the total, by bisection on d over the cumulative weights, to
   * 1e-3 of d (a bin is 4.4 % wide). `upper`, a distance known to hold half the mass or more
   * (the farther of the 10th and 90th percentiles from the median), saves steps.
   */
  mad(center: number, upper = Number.POSITIVE_INFINITY): number {
    const n = this.size;
    if (this.total <= 0 || n === 0) return Number.NaN;
    if (scratch.length < n + 1) scratch = new Float64Array(n + 1);
    const cum = scratch;
    const data = this.slab.f32;
    const R = this.base + this.reserve;
    cum[0] = 0;
    for (let i = 0; i < n; i++) cum[i + 1] = cum[i]! + data[R + i]!;
    const half = cum[n]! / 2;
    let lo = 0;
    let hi = Number.isFinite(upper)
      ? upper
      : Math.max(Math.abs(this.valueAt(this.lo + n - 1, 1) - center), Math.abs(center - this.valueAt(this.lo, 0)));
    for (let k = 0; k < 64 && hi - lo > 1e-3 * hi; k++) {
      const d = (lo + hi) / 2;
      if (this.below(center + d, cum, n, data, R) - this.below(center - d, cum, n, data, R) >= half) hi = d;
      else lo = d;
    }
    return hi;
  }

  snapshot(): LogHistogramState {
    return {
      lo: this.lo,
      bins: encodeFloats(this.slab.f32.subarray(this.base + this.reserve, this.base + this.floats)),
      total: this.total,
      weight: this.weight,
    };
  }

  /**
   * Weight below x (`cum`: the running sums of the `n` bins, which start at `data[R]`: read once by
   * the caller's bisection, not at every step), with each bin's mass spread evenly in log.
   */
  private below(x: number, cum: Float64Array, n: number, data: Float32Array, R: number): number {
    // keyOf and fractionIn in one: a single log2.
    const l = (Math.log2(Math.abs(x)) - this.floorLog2) * BINS_PER_OCTAVE;
    let key: number;
    let f: number;
    if (!(l >= 0)) {
      key = 0;
      f = Math.min(1, Math.max(0, (x * 2 ** -this.floorLog2 + 1) / 2));
    } else {
      const k = Math.floor(l);
      key = x < 0 ? -(k + 1) : k + 1;
      f = x < 0 ? 1 - (l - k) : l - k;
    }
    const i = key - this.lo;
    if (i < 0) return 0;
    if (i >= n) return cum[n]!;
    return cum[i]! + data[R + i]! * f;
  }

  /** The bin key of x: 0 for |x| < 2^floorLog2, else ±(1 + the bin of log2 |x| above the floor). */
  private keyOf(x: number): number {
    const m = Math.abs(x);
    const l = Math.log2(m) - this.floorLog2;
    if (!(l >= 0)) return 0;
    const k = Math.floor(l * BINS_PER_OCTAVE) + 1;
    return x < 0 ? -k : k;
  }

  /** The value a fraction f (0 … 1, ascending) into bin `key`. */
  private valueAt(key: number, f: number): number {
    const floor = this.floorLog2;
    if (key === 0) return (2 * f - 1) * 2 ** floor;
    if (key > 0) return 2 ** (floor + (key - 1 + f) / BINS_PER_OCTAVE);
    return -(2 ** (floor + (-key - f) / BINS_PER_OCTAVE));
  }

  /** The index of bin `key`, growing the range held to include it (with SLACK bins of room) or clamping to MAX_SPAN. */
  private slot(key: number): number {
    const n = this.size;
    const i = key - this.lo;
    if (n > 0 && i >= 0 && i < n) return i;
    const lo = n === 0 ? key - SLACK : Math.min(this.lo, key - SLACK);
    const hi = n === 0 ? key + SLACK : Math.max(this.lo + n - 1, key + SLACK);
    if (n > 0 && key < this.lo && hi - key >= MAX_SPAN) return 0; // below a full range: its lowest bin
    const from = Math.max(lo, hi - MAX_SPAN + 1);
    const R = this.reserve;
    const b = this.base;
    const old = this.slab.f32.slice(b, b + this.floats);
    this.slab.resize(this.region, 4 * (R + hi - from + 1), false);
    const grown = this.slab.f32;
    const g = this.base;
    if (old.length > 0) grown.set(old.subarray(0, R), g);
    for (let j = 0; j < n; j++) grown[g + R + Math.max(0, this.lo + j - from)]! += old[R + j]!;
    this.lo = from;
    return Math.max(0, key - from);
  }
}
