import { decodeRuns, encodeRuns, findBin, runLength, runsLength, runStart, scaleRuns } from './bin-runs.js';
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
 * Only the range of bins in use is held (float32: a weight needs no more), grown as values land
 * outside it, up to MAX_SPAN bins: beyond that the lowest fold into their neighbour, or a value
 * below the range joins its lowest bin (a series' values span a few octaves, not 16); and of the
 * range only its runs of bins that are not empty (bin-runs.ts: after 150 windows half the range's
 * bins are empty, 0.6 kB a series of the window rules' four histories). All of it lives in one
 * region of the owner's slab (slab.ts: one buffer for all of a detector's arrays, where a typed
 * array each cost a hundred bytes or more of heap besides its values): the histogram's float64
 * scalars and `ownerScalars` more of its owner's, then `reserve` floats its owner keeps there,
 * then the runs. An owner extends the class (RecentValues: one object, one region a statistic).
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
/** The histogram's float64s at the start of its region: the total weight, the weight of the next value, and its growth a value. */
const TOTAL = 0;
const WEIGHT = 1;
const GROWTH = 2;
const SCALARS = 3;
/**
 * Bin sums for one MAD's bisection, and the bins' weights, dense (filled and read within one call:
 * no state between calls).
 */
const scratch = new Float64Array(MAX_SPAN + 1);
const weights = new Float64Array(MAX_SPAN);
/** The range's bins dense, while a new bin is added to the runs (float32, as the runs hold them). */
const dense = new Float32Array(MAX_SPAN);
/** Where each run's header is, for a walk from the top. */
const runAt = new Int32Array(MAX_SPAN);

/**
 * A saved range wider than MAX_SPAN (none this code writes: a damaged checkpoint; the scratch
 * arrays and run headers hold MAX_SPAN bins) folded as the live range is (`slot`): its lowest bins
 * added, lowest first in float32, into the first bin it keeps.
 */
function foldToMaxSpan(bins: Float32Array): Float32Array {
  const cut = bins.length - MAX_SPAN;
  if (cut <= 0) return bins;
  const kept = bins.slice(cut);
  let first = 0;
  for (let j = 0; j <= cut; j++) first = Math.fround(first + bins[j]!);
  kept[0] = first;
  return kept;
}

export class LogHistogram {
  /** Region of the slab: the scalars (float64), the owner's `reserve` floats, then the runs of bins (float32). */
  protected readonly region: number;
  /** Key of the range's first bin, and bins in the range (0 before any value). */
  private lo = 0;
  private span = 0;

  constructor(
    halfLife: number,
    /** log2 of the smallest magnitude told from zero. */
    private readonly floorLog2: number,
    state?: LogHistogramState,
    /** Floats at the start of the array that are the owner's (see `reserved`, `reserveRoom`). */
    private reserve = 0,
    protected readonly slab: Slab = new Slab(),
  ) {
    this.region = slab.alloc(4 * (this.scalarFloats + reserve));
    const f = slab.f64;
    const o = slab.at(this.region) >> 3;
    f[o + WEIGHT] = 1;
    f[o + GROWTH] = 2 ** (1 / halfLife);
    if (state) {
      const saved = decodeFloats(state.bins);
      const bins = foldToMaxSpan(saved);
      this.lo = state.lo + saved.length - bins.length;
      this.span = bins.length;
      this.store(bins);
      // Read afresh: laying the runs out may have moved the slab to a new buffer.
      this.slab.setNum(this.region, TOTAL, state.total);
      this.slab.setNum(this.region, WEIGHT, state.weight);
    }
  }

  /**
   * Float64s of the owner's after the histogram's own (read with `num`, `setNum`): an owner that
   * keeps some says how many here (a getter of its class, not a field in each of its objects).
   */
  protected get ownerScalars(): number {
    return 0;
  }

  /** Floats of the scalars ahead of the owner's `reserve`. */
  private get scalarFloats(): number {
    return 2 * (SCALARS + this.ownerScalars);
  }

  /** The owner's i-th float64 (after the histogram's own). */
  protected num(i: number): number {
    return this.slab.f64[(this.slab.at(this.region) >> 3) + SCALARS + i]!;
  }

  protected setNum(i: number, x: number): void {
    this.slab.f64[(this.slab.at(this.region) >> 3) + SCALARS + i] = x;
  }

  /** The array whose floats from `base` on are the owner's `reserve`; read it and `base` afresh after each push, which may move them. */
  get reserved(): Float32Array {
    return this.slab.f32;
  }

  /** Index in `reserved` of the owner's first float. */
  get base(): number {
    return (this.slab.at(this.region) >> 2) + this.scalarFloats;
  }

  /** Floats the runs take. */
  private get stored(): number {
    return (this.slab.bytes(this.region) >> 2) - this.scalarFloats - this.reserve;
  }

  /** Makes the owner's part `floats` long (at least as long as it was; its floats keep their places, the new ones are 0). */
  reserveRoom(floats: number): void {
    const grow = floats - this.reserve;
    const stored = this.stored;
    this.slab.resize(this.region, this.slab.bytes(this.region) + 4 * grow);
    const data = this.slab.f32;
    const runs = this.base + this.reserve;
    data.copyWithin(runs + grow, runs, runs + stored);
    data.fill(0, runs, runs + grow);
    this.reserve = floats;
  }

  /** Floats of the array that are the owner's. */
  get reserveLength(): number {
    return this.reserve;
  }

  push(x: number): void {
    if (!Number.isFinite(x)) return;
    const i = this.indexOf(this.slot(this.keyOf(x)));
    const data = this.slab.f32;
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    const weight = f[o + WEIGHT]!;
    data[i]! += weight;
    f[o + TOTAL]! += weight;
    f[o + WEIGHT] = weight * f[o + GROWTH]!;
    if (f[o + WEIGHT]! > RESCALE_AT) {
      const k = 1 / f[o + WEIGHT]!;
      scaleRuns(data, this.base + this.reserve, this.stored, k);
      f[o + TOTAL]! *= k;
      f[o + WEIGHT] = 1;
    }
  }

  /** The faded weight of all values held. */
  get mass(): number {
    return this.slab.num(this.region, TOTAL);
  }

  /**
   * The q-quantile (0 … 1) of the faded values; NaN when empty. `unit`, the weight of one value,
   * reads it as order statistics are read (the value of rank q (n − 1), each value's mass centred
   * on it), where 0 takes the mass's q-point; the difference is half a value's rank either way,
   * which at the 99th percentile of a few hundred values is a tenth of their spread.
   */
  quantile(q: number, unit = 0): number {
    const n = this.span;
    const total = this.mass;
    if (total <= 0 || n === 0) return Number.NaN;
    const data = this.slab.f32;
    const at = this.base + this.reserve;
    const end = at + this.stored;
    const u = Math.min(unit, total);
    if (q <= 0.5) {
      const target = q * (total - u) + u / 2;
      let cum = 0;
      for (let p = at; p < end; ) {
        const start = runStart(data[p]!);
        const length = runLength(data[p]!);
        for (let j = 0; j < length; j++) {
          const w = data[p + 1 + j]!;
          if (w > 0 && cum + w >= target) return this.valueAt(this.lo + start + j, (target - cum) / w);
          cum += w;
        }
        p += 1 + length;
      }
      return this.valueAt(this.lo + n - 1, 1);
    }
    // Upper quantiles from the top: fewer bins to walk (the runs' headers found first).
    let runs = 0;
    for (let p = at; p < end; p += 1 + runLength(data[p]!)) runAt[runs++] = p;
    const target = (1 - q) * (total - u) + u / 2;
    let cum = 0;
    for (let r = runs - 1; r >= 0; r--) {
      const p = runAt[r]!;
      const start = runStart(data[p]!);
      const length = runLength(data[p]!);
      for (let j = length - 1; j >= 0; j--) {
        const w = data[p + 1 + j]!;
        if (w > 0 && cum + w >= target) return this.valueAt(this.lo + start + j, 1 - (target - cum) / w);
        cum += w;
      }
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
    const n = this.span;
    if (this.mass <= 0 || n === 0) return Number.NaN;
    const w = weights;
    w.fill(0, 0, n);
    decodeRuns(this.slab.f32, this.base + this.reserve, this.stored, w);
    const cum = scratch;
    cum[0] = 0;
    for (let i = 0; i < n; i++) cum[i + 1] = cum[i]! + w[i]!;
    const half = cum[n]! / 2;
    let lo = 0;
    let hi = Number.isFinite(upper)
      ? upper
      : Math.max(Math.abs(this.valueAt(this.lo + n - 1, 1) - center), Math.abs(center - this.valueAt(this.lo, 0)));
    for (let k = 0; k < 64 && hi - lo > 1e-3 * hi; k++) {
      const d = (lo + hi) / 2;
      if (this.below(center + d, cum, n, w) - this.below(center - d, cum, n, w) >= half) hi = d;
      else lo = d;
    }
    return hi;
  }

  /** The histogram's state (its bins dense over its range, as snapshots always held them). */
  histogramState(): LogHistogramState {
    const n = this.span;
    const bins = new Float32Array(n);
    decodeRuns(this.slab.f32, this.base + this.reserve, this.stored, bins);
    return { lo: this.lo, bins: encodeFloats(bins), total: this.mass, weight: this.slab.num(this.region, WEIGHT) };
  }

  /**
   * Weight below x (`cum`: the running sums of the `n` bins, `w` their weights: read once by the
   * caller's bisection, not at every step), with each bin's mass spread evenly in log.
   */
  private below(x: number, cum: Float64Array, n: number, w: Float64Array): number {
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
    return cum[i]! + w[i]! * f;
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

  /**
   * The index of bin `key` in the range, growing the range to include it (with SLACK bins of
   * room) or clamping to MAX_SPAN, the lowest bins folded into the range's first.
   */
  private slot(key: number): number {
    const n = this.span;
    const i = key - this.lo;
    if (n > 0 && i >= 0 && i < n) return i;
    const lo = n === 0 ? key - SLACK : Math.min(this.lo, key - SLACK);
    const hi = n === 0 ? key + SLACK : Math.max(this.lo + n - 1, key + SLACK);
    if (n > 0 && key < this.lo && hi - key >= MAX_SPAN) return 0; // below a full range: its lowest bin
    const from = Math.max(lo, hi - MAX_SPAN + 1);
    const old = this.dense();
    const grown = new Float32Array(hi - from + 1);
    // Added bin by bin in float32, lowest first, as the dense range was (a fold sums several).
    for (let j = 0; j < n; j++) grown[Math.max(0, this.lo + j - from)]! += old[j]!;
    this.lo = from;
    this.span = grown.length;
    this.store(grown);
    return Math.max(0, key - from);
  }

  /** The index in the slab's float32 view of bin i of the range, a run made for it (its weight 0) if it is in none. */
  private indexOf(i: number): number {
    const found = findBin(this.slab.f32, this.base + this.reserve, this.stored, i);
    if (found >= 0) return found;
    const bins = this.dense();
    // Marked not empty while the runs are laid out anew, then emptied: the caller adds its weight to 0.
    bins[i] = 1;
    this.store(bins);
    const at = findBin(this.slab.f32, this.base + this.reserve, this.stored, i);
    this.slab.f32[at] = 0;
    return at;
  }

  /** The range's bins, dense (a module scratch array: read before the next call). */
  private dense(): Float32Array {
    const bins = dense.subarray(0, this.span);
    bins.fill(0);
    decodeRuns(this.slab.f32, this.base + this.reserve, this.stored, bins);
    return bins;
  }

  /** Lays the region's runs out anew for the range's `bins` (dense). */
  private store(bins: Float32Array): void {
    const floats = runsLength(bins, bins.length);
    this.slab.resize(this.region, 4 * (this.scalarFloats + this.reserve + floats));
    encodeRuns(bins, bins.length, this.slab.f32, this.base + this.reserve);
  }
}
