import type { Slab } from './slab.js';

/**
 * The storage of a TailCalibrator (tail-calibrator.ts): its log-binned histogram of deviations and
 * its scalars, in regions of the owner's slab (stats/slab.ts), apart from what it computes on them.
 * The calibrator extends it (no object of its own: a series has a few dozen calibrators).
 */

export const BINS_PER_OCTAVE = 8;
export const MIN_LOG2 = -40;
export const MAX_LOG2 = 60;
/** Bin 0 holds exact zeros (flat series produce many); bins 1.. are log-spaced. */
export const BINS = 1 + (MAX_LOG2 - MIN_LOG2) * BINS_PER_OCTAVE;

export function binOf(d: number): number {
  if (!(d > 0)) return 0;
  const b = Math.floor((Math.log2(d) - MIN_LOG2) * BINS_PER_OCTAVE) + 1;
  return b < 1 ? 1 : b >= BINS ? BINS - 1 : b;
}

/** log2 of the geometric middle of a log bin. */
export function binMidLog2(b: number): number {
  return (b - 0.5) / BINS_PER_OCTAVE + MIN_LOG2;
}

/**
 * Bins of room beyond a new one when the range grows (a quarter octave). An octave each side was
 * 16 bins of zeros a calibrator, a quarter of its bins (0.27 kB a series of ~5.6 calibrators);
 * bins outside the range are zero all the same, so nothing read changes.
 */
const SLACK = 2;

/** Slots of a calibrator's scalars (see TailHistogram.scalars). */
export const ZEROS = 0;
export const TOTAL = 1;
export const WEIGHT = 2;
export const GROWTH = 3;

export class TailHistogram {
  /**
   * Weights of bins lo … lo + counts.length − 1 (1 ≤ lo). A series' deviations span a few octaves
   * of the 100 the bins cover, so only the range in use is allocated, grown as new bins are hit;
   * bins outside it are zero. Bin 0 (exact zeros) is kept apart. A region of the slab (float64).
   */
  protected readonly region: number;
  protected lo = 1;
  /** Region of the slab (float64): the weight of exact zeros, the total weight, the weight of the next sample (it grows by `growth` each step, which fades the old ones) and `growth` (numbers in fields would be a 16-byte heap object each). */
  protected readonly scalars: number;

  protected get zeros(): number {
    return this.slab.num(this.scalars, ZEROS);
  }

  protected set zeros(x: number) {
    this.slab.setNum(this.scalars, ZEROS, x);
  }

  protected get total(): number {
    return this.slab.num(this.scalars, TOTAL);
  }

  protected set total(x: number) {
    this.slab.setNum(this.scalars, TOTAL, x);
  }

  protected get weight(): number {
    return this.slab.num(this.scalars, WEIGHT);
  }

  protected set weight(x: number) {
    this.slab.setNum(this.scalars, WEIGHT, x);
  }

  protected get growth(): number {
    return this.slab.num(this.scalars, GROWTH);
  }

  protected set growth(x: number) {
    this.slab.setNum(this.scalars, GROWTH, x);
  }

  constructor(
    /** The owner's (one buffer for all of a detector's arrays). */
    protected readonly slab: Slab,
    growth: number,
  ) {
    this.scalars = slab.alloc(4 * 8);
    this.weight = 1;
    this.growth = growth;
    this.region = slab.alloc(0);
  }

  /** Index of bin `lo`'s count in the slab's float64 view. */
  protected get base(): number {
    return this.slab.at(this.region) >> 3;
  }

  /** Bins allocated. */
  protected get length(): number {
    return this.slab.bytes(this.region) >> 3;
  }

  /** Adds `w` to bin b, growing the allocated range to hold it. */
  protected put(b: number, w: number): void {
    const i = b - this.lo;
    const n = this.length;
    if (b !== 0 && i >= 0 && i < n) {
      this.slab.f64[this.base + i]! += w; // the common case: a bin already in range
      return;
    }
    if (b === 0) {
      this.zeros += w;
      return;
    }
    // Outside the allocated range: grow with SLACK bins of room on the side that grew, so neighbours seldom reallocate.
    const lo = n === 0 ? Math.max(1, b - SLACK) : Math.max(1, Math.min(this.lo, b - SLACK));
    const hi = n === 0 ? Math.min(BINS - 1, b + SLACK) : Math.min(BINS - 1, Math.max(this.lo + n - 1, b + SLACK));
    const old = this.slab.f64.slice(this.base, this.base + n);
    this.slab.resize(this.region, 8 * (hi - lo + 1), false);
    const grown = this.slab.f64;
    const g = this.base;
    if (n > 0) grown.set(old, g + this.lo - lo);
    this.lo = lo;
    grown[g + b - this.lo]! += w;
  }
}
