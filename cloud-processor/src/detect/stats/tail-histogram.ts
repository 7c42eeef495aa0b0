import { decodeRuns, encodeRuns, findBin, runsEnd, runsLength, runStart } from './bin-runs.js';
import type { Slab } from './slab.js';

/**
 * The storage of a TailCalibrator (tail-calibrator.ts): its log-binned histogram of deviations and
 * its scalars, in a region of the owner's slab (stats/slab.ts), apart from what it computes on them.
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

/** Slots of a calibrator's scalars, at the start of its region (see TailHistogram.region). */
export const ZEROS = 0;
export const TOTAL = 1;
export const WEIGHT = 2;
export const GROWTH = 3;
const SCALARS = 4;

/** The bins dense while a new one joins the runs (zero between calls). */
const dense = new Float64Array(BINS);

export class TailHistogram {
  /**
   * Region of the slab (float64): the scalars (the weight of exact zeros, the total weight, the
   * weight of the next sample: it grows by `growth` each step, which fades the old ones; and
   * `growth`), then the log bins' weights as runs of the bins in use (bin-runs.ts, by bin number:
   * a series' deviations span a few octaves of the 100 the bins cover, and of those a young
   * series' calibrator has two in five bins empty). Bin 0 (exact zeros) is kept apart. One region,
   * not two: a series has a few dozen calibrators.
   */
  protected readonly region: number;

  protected get zeros(): number {
    return this.slab.num(this.region, ZEROS);
  }

  protected set zeros(x: number) {
    this.slab.setNum(this.region, ZEROS, x);
  }

  protected get total(): number {
    return this.slab.num(this.region, TOTAL);
  }

  protected set total(x: number) {
    this.slab.setNum(this.region, TOTAL, x);
  }

  protected get weight(): number {
    return this.slab.num(this.region, WEIGHT);
  }

  protected set weight(x: number) {
    this.slab.setNum(this.region, WEIGHT, x);
  }

  constructor(
    /** The owner's (one buffer for all of a detector's arrays). */
    protected readonly slab: Slab,
    growth: number,
  ) {
    this.region = slab.alloc(SCALARS * 8);
    this.weight = 1;
    this.slab.setNum(this.region, GROWTH, growth);
  }

  /** Index of the scalars in the slab's float64 view (the runs follow them). */
  protected get scalars(): number {
    return this.slab.at(this.region) >> 3;
  }

  /** Index of the first run's header in the slab's float64 view. */
  protected get base(): number {
    return this.scalars + SCALARS;
  }

  /** Float64s the runs take. */
  protected get stored(): number {
    return (this.slab.bytes(this.region) >> 3) - SCALARS;
  }

  /**
   * Adds a snapshot's weights ([bin, weight], as `snapshot` lists them: bins not empty), the runs laid
   * out once: `put` lays them out anew for each bin it has not seen (a restore of 10,000 series'
   * calibrators). The same runs as putting them one by one: both hold exactly the bins not empty.
   */
  protected putAll(counts: ReadonlyArray<readonly [number, number]>): void {
    decodeRuns(this.slab.f64, this.base, this.stored, dense);
    for (const [b, w] of counts) {
      if (b === 0) this.zeros += w;
      // A bin a snapshot of this code cannot hold (not an integer in 1..BINS-1) is left out, as `put` leaves it.
      else if (Number.isInteger(b) && b > 0 && b < BINS) dense[b] = dense[b]! + w;
    }
    this.layOut(0, BINS);
  }

  /** Lays the runs out anew from `dense`'s bins in [from, to) (the others empty), and empties them. */
  private layOut(from: number, to: number): void {
    this.slab.resize(this.region, 8 * (SCALARS + runsLength(dense, to, from)));
    encodeRuns(dense, to, this.slab.f64, this.base, from);
    dense.fill(0, from, to);
  }

  /** Adds `w` to bin b, a run made for it when it is in none. */
  protected put(b: number, w: number): void {
    if (b === 0) {
      this.zeros += w;
      return;
    }
    const stored = this.stored;
    let i = findBin(this.slab.f64, this.base, stored, b);
    if (i < 0) {
      // Marked not empty while the runs are laid out anew, then emptied: w is added to 0, as to a dense bin.
      // Laid out over the bins from the first run's (or b) to past the last run's (or b), not all
      // BINS: the bins outside are empty, so the runs come out the same (a young series' calibrators
      // meet a new bin every few samples).
      const f = this.slab.f64;
      decodeRuns(f, this.base, stored, dense);
      const from = Math.max(0, stored > 0 ? Math.min(b, runStart(f[this.base]!)) : b);
      const to = Math.min(BINS, Math.max(b + 1, runsEnd(f, this.base, stored)));
      dense[b] = 1;
      this.layOut(from, to);
      i = findBin(this.slab.f64, this.base, this.stored, b);
      this.slab.f64[i] = 0;
    }
    this.slab.f64[i]! += w;
  }
}
