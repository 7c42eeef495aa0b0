import { MAD_TO_SIGMA } from '../detector.js';
import { decodeFloats, encodeFloats } from './float-ring.js';
import { Slab } from './slab.js';

/**
 * A long history of values kept as a ring of equal-sized chunks (an hour each, for the drift
 * member's three days), each chunk summarised when it closes by its quantiles at RANKS, float32:
 * 20 bytes a chunk where its values took 4 each (240 bytes an hour of minute windows). The
 * summaries are merged when read (chunks are of equal size, so each counts the same), and the
 * robust σ read from them is the full history's to within a few % (quantile-chunks.test.ts
 * measures it against the exact one): the quartiles, which make the MAD, are held exactly per
 * chunk. The oldest chunk leaves whole when the ring is full.
 */
export interface QuantileChunksState {
  /** The closed chunks' points, oldest chunk first, as base64 of float32. */
  points: string;
}

/** The ranks of the quantiles a chunk is summarised by (its quartiles and median, and its 10 % tails). */
const RANKS = [0.1, 0.25, 0.5, 0.75, 0.9] as const;
const POINTS = RANKS.length;

export class QuantileChunks {
  /**
   * Region of the slab: chunk k's points at [k·POINTS, (k + 1)·POINTS) of it; `next` the chunk to
   * be overwritten once full.
   */
  private readonly region: number;
  private next = 0;

  constructor(
    /** Chunks held at most. */
    readonly capacity: number,
    state?: QuantileChunksState,
    /** The owner's (one buffer for all of a detector's arrays), else one of its own. */
    private readonly slab: Slab = new Slab(),
  ) {
    const saved = state ? decodeFloats(state.points) : undefined;
    const points = saved && saved.length > POINTS * capacity ? saved.subarray(-POINTS * capacity) : saved;
    this.region = slab.alloc(4 * (points?.length ?? 0));
    if (points) slab.f32.set(points, this.base);
    this.next = this.length / POINTS === capacity ? 0 : this.length / POINTS;
  }

  /** Index of the first point in the slab's float32 view. */
  private get base(): number {
    return this.slab.at(this.region) >> 2;
  }

  /** Points held. */
  private get length(): number {
    return this.slab.bytes(this.region) >> 2;
  }

  /** Closed chunks held. */
  get chunks(): number {
    return this.length / POINTS;
  }

  /** Summarises a closed chunk's first n values (called once a chunk: it sorts a copy, in a scratch). */
  close(values: ArrayLike<number>, n = values.length): void {
    if (n === 0) return;
    if (sortScratch.length < n) sortScratch = new Float64Array(n);
    for (let i = 0; i < n; i++) sortScratch[i] = values[i]!;
    const sorted = sortScratch.subarray(0, n).sort();
    if (this.length < POINTS * this.capacity) {
      // Grown one chunk at a time as a young series fills its history (a rebuild of the slab an hour).
      this.slab.resize(this.region, 4 * (this.length + POINTS));
      this.next = this.length / POINTS - 1;
    }
    const points = this.slab.f32;
    const b = this.base;
    for (let i = 0; i < POINTS; i++) {
      const pos = RANKS[i]! * (n - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(n - 1, lo + 1);
      points[b + POINTS * this.next + i] = sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
    }
    this.next = (this.next + 1) % this.capacity;
  }

  /**
   * MAD_TO_SIGMA × the median absolute deviation from the median of the chunks' values, read from
   * their merged distribution: each chunk's quantile function runs linearly through its points (and
   * half a step beyond the outer ones), the history's CDF is the chunks' mean, and the median and
   * the MAD are found on it by bisection. (The points' own median of distances would fall between
   * a chunk's inner and outer points, wherever the chunks put them.) NaN when no chunk has closed.
   */
  robustSigma(): number {
    const p = this.slab.f32;
    const b = this.base;
    const end = b + this.length;
    if (end === b) return Number.NaN;
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = b; k < end; k += POINTS) {
      lo = Math.min(lo, p[k]! - tailBelow(p, k));
      hi = Math.max(hi, p[k + POINTS - 1]! + tailAbove(p, k));
    }
    const median = bisect(lo, hi, (x) => this.cdf(x) >= 0.5);
    const mad = bisect(0, hi - lo, (d) => this.cdf(median + d) - this.cdf(median - d) >= 0.5);
    return MAD_TO_SIGMA * mad;
  }

  /** Share of the held values below x: the mean of the chunks' piecewise-linear CDFs. */
  private cdf(x: number): number {
    const p = this.slab.f32;
    const b = this.base;
    const length = this.length;
    let sum = 0;
    for (let k = b; k < b + length; k += POINTS) sum += chunkCdf(p, k, x);
    return sum / (length / POINTS);
  }

  snapshot(): QuantileChunksState {
    // Oldest chunk first: the one `next` overwrites once the ring is full.
    const length = this.length;
    const points = this.slab.f32.subarray(this.base, this.base + length);
    const full = length === POINTS * this.capacity;
    const from = full ? POINTS * this.next : 0;
    const ordered = new Float32Array(length);
    ordered.set(points.subarray(from));
    ordered.set(points.subarray(0, from), length - from);
    return { points: encodeFloats(ordered) };
  }
}

/** Scratch of `close`'s sorted copy (a chunk's values, an hour's windows), grown to the largest chunk: no array a chunk. */
let sortScratch = new Float64Array(0);

/** MAD_TO_SIGMA × the median (upper middle) absolute deviation from the median (upper middle). */
export function robustSigma(xs: ArrayLike<number>): number {
  const sorted = Float64Array.from(xs).sort();
  const median = sorted[sorted.length >> 1]!;
  const deviations = sorted.map((x) => Math.abs(x - median)).sort();
  return MAD_TO_SIGMA * deviations[deviations.length >> 1]!;
}

/** How far below its first point a chunk's lowest values reach: its first segment's slope, down to rank 0. */
function tailBelow(p: Float32Array, k: number): number {
  return ((p[k + 1]! - p[k]!) * RANKS[0]) / (RANKS[1] - RANKS[0]);
}

/** How far above its last point a chunk's highest values reach: its last segment's slope, up to rank 1. */
function tailAbove(p: Float32Array, k: number): number {
  const n = POINTS - 1;
  return ((p[k + n]! - p[k + n - 1]!) * (1 - RANKS[n]!)) / (RANKS[n]! - RANKS[n - 1]!);
}

/**
 * The CDF at x of the chunk whose points start at p[k]: through each point at its rank, linear
 * between them and beyond the outer ones to ranks 0 and 1 (a vertical step where points coincide).
 */
function chunkCdf(p: Float32Array, k: number, x: number): number {
  const first = p[k]!;
  const last = p[k + POINTS - 1]!;
  if (x < first) {
    const w = tailBelow(p, k);
    return w > 0 ? RANKS[0] * Math.max(0, 1 - (first - x) / w) : 0;
  }
  if (x >= last) {
    const w = tailAbove(p, k);
    const top = RANKS[POINTS - 1]!;
    return w > 0 ? top + (1 - top) * Math.min(1, (x - last) / w) : 1;
  }
  for (let i = 0; i < POINTS - 1; i++) {
    const a = p[k + i]!;
    const b = p[k + i + 1]!;
    if (x < b) return RANKS[i]! + ((x - a) / (b - a)) * (RANKS[i + 1]! - RANKS[i]!);
  }
  return 1;
}

/** The smallest x in [lo, hi] where `reached` turns true (it is monotone), to 1e-9 of the range. */
function bisect(lo: number, hi: number, reached: (x: number) => boolean): number {
  for (let i = 0; i < 64 && hi - lo > 1e-9 * (Math.abs(lo) + Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
