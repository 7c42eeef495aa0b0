/**
 * A mergeable quantile sketch with bounded memory and a deterministic rank-error bound: a stack
 * of compactors (Manku, Rajagopalan & Lindsay 1998; Agarwal et al., "Mergeable summaries", 2012;
 * the deterministic form of KLL with equal capacities).
 *
 * Level h holds items that each stand for 2^h readings. A level that reaches `k` items is sorted
 * and every other item (alternately the odd or the even ones, per level) moves up a level with
 * twice the weight; with an odd number of items one stays behind.
 *
 * Error bound. For any value x let R(x) be the number of readings ≤ x and R̂(x) the sketch's
 * estimate (total weight of retained items ≤ x). One compaction at level h changes R̂(x) by at most
 * 2^h, and consumes at least k items of weight 2^h, i.e. k·2^h of the n readings, so level h is
 * compacted at most n / (k·2^h) times and only levels h with k·2^h ≤ n compact at all. Hence
 *
 *     |R̂(x) − R(x)| ≤ (⌊log2(n / k)⌋ + 1) · n / k     for n ≥ k, and 0 (exact) for n < k.
 *
 * With k = 128: exact to 127 readings per window; ≤ 1.6 % of n at n = 256, ≤ 3.1 % at 1,000,
 * ≤ 5.5 % at 10,000 (the bound is worst case; measured errors are a fraction of it, see
 * sketch.test.ts). The same bound holds after any sequence of merges (a compaction is the same
 * step whether its items came from `add` or `merge`).
 *
 * Memory: fewer than k items per level and ⌊log2(n / k)⌋ + 2 levels, i.e. at most
 * k · (⌊log2(n / k)⌋ + 2) doubles; a pane of 60 readings holds 60. Buffers start small and grow.
 *
 * Quantiles use the nearest-rank definition: the q-quantile of n readings is the smallest value
 * whose rank is at least ⌈q·n⌉ (at least 1).
 */
export class QuantileSketch {
  /** levels[h]: items of weight 2^h in [0, sizes[h]). */
  private levels: Float64Array[] = [];
  private sizes: number[] = [];
  /** Bit h: which half level h keeps at its next compaction. */
  private flips = 0;
  /** Readings summarised. */
  count = 0;

  constructor(readonly k: number) {
    if (k < 2 || k % 2 !== 0) throw new RangeError('k must be an even number ≥ 2');
  }

  /** Worst-case |R̂(x) − R(x)| for a sketch of `n` readings with parameter `k` (see the class comment). */
  static rankErrorBound(n: number, k: number): number {
    if (n < k) return 0;
    return (Math.floor(Math.log2(n / k)) + 1) * (n / k);
  }

  /** Adds one reading: amortised O(log k). */
  add(x: number): void {
    this.count++;
    let buf = this.levels[0];
    const size = this.sizes[0] ?? 0;
    if (buf === undefined) {
      buf = new Float64Array(Math.min(INITIAL, this.k));
      this.levels[0] = buf;
      this.sizes[0] = 0;
    } else if (size === buf.length) {
      buf = grow(buf, Math.min(buf.length * 2, this.k));
      this.levels[0] = buf;
    }
    buf[size] = x;
    this.sizes[0] = size + 1;
    if (size + 1 >= this.k) this.compactFrom(0);
  }

  /** Adds everything `other` summarises; `other` is unchanged. Both must have the same k. */
  merge(other: QuantileSketch): void {
    if (other.k !== this.k) throw new RangeError('cannot merge sketches of different k');
    for (let h = 0; h < other.levels.length; h++) {
      const n = other.sizes[h] ?? 0;
      if (n > 0) this.append(h, other.levels[h]!, n);
    }
    this.count += other.count;
    this.compactFrom(0);
  }

  /** Forgets everything but keeps the buffers, so a scratch sketch can be reused without allocating. */
  clear(): void {
    for (let h = 0; h < this.sizes.length; h++) this.sizes[h] = 0;
    this.count = 0;
    this.flips = 0;
  }

  /** Retained items (the memory actually held). */
  get retained(): number {
    let n = 0;
    for (const s of this.sizes) n += s;
    return n;
  }

  /** Estimated R̂(x): weight of retained items ≤ x. */
  rank(x: number): number {
    let r = 0;
    for (let h = 0; h < this.levels.length; h++) {
      const buf = this.levels[h]!;
      const n = this.sizes[h] ?? 0;
      let c = 0;
      for (let i = 0; i < n; i++) if (buf[i]! <= x) c++;
      r += c * 2 ** h;
    }
    return r;
  }

  /**
   * The estimated q-quantiles for each q in `qs` (ascending, in [0, 1]), written to `out`.
   * NaN for an empty sketch. Sorts each level in place (order within a level carries no meaning).
   */
  quantiles(qs: readonly number[], out: number[]): void {
    const L = this.levels.length;
    if (this.count === 0) {
      for (let j = 0; j < qs.length; j++) out[j] = NaN;
      return;
    }
    const pos = new Array<number>(L).fill(0);
    for (let h = 0; h < L; h++) this.levels[h]!.subarray(0, this.sizes[h] ?? 0).sort();
    // Compaction keeps the total weight exactly (an odd item stays behind at its level).
    const total = this.count;
    let cumulative = 0;
    let j = 0;
    let last = NaN;
    while (j < qs.length) {
      // Next smallest item across the levels (a k-way merge over few levels).
      let best = -1;
      let bestValue = Infinity;
      for (let h = 0; h < L; h++) {
        const p = pos[h]!;
        if (p < (this.sizes[h] ?? 0)) {
          const v = this.levels[h]![p]!;
          if (best < 0 || v < bestValue) {
            best = h;
            bestValue = v;
          }
        }
      }
      if (best < 0) break;
      pos[best]!++;
      cumulative += 2 ** best;
      last = bestValue;
      while (j < qs.length && cumulative >= Math.max(1, Math.ceil(qs[j]! * total))) out[j++] = bestValue;
    }
    while (j < qs.length) out[j++] = last;
  }

  /** Level h's buffer, with room for `n` more items. */
  private reserve(h: number, n: number): Float64Array {
    while (this.levels.length <= h) {
      this.levels.push(new Float64Array(Math.min(INITIAL, this.k)));
      this.sizes.push(0);
    }
    let buf = this.levels[h]!;
    const size = this.sizes[h]!;
    if (size + n > buf.length) {
      let cap = buf.length;
      while (cap < size + n) cap *= 2;
      buf = grow(buf, cap);
      this.levels[h] = buf;
    }
    return buf;
  }

  private append(h: number, items: Float64Array, n: number): void {
    const buf = this.reserve(h, n);
    buf.set(items.subarray(0, n), this.sizes[h]!);
    this.sizes[h]! += n;
  }

  /** Compacts every level from `h` up that holds k items or more. */
  private compactFrom(h: number): void {
    for (; h < this.levels.length; h++) {
      const size = this.sizes[h]!;
      if (size < this.k) continue;
      const buf = this.levels[h]!;
      const view = buf.subarray(0, size);
      view.sort();
      // An odd item out stays behind at this level (the largest, moved to the front).
      const odd = size % 2;
      const bit = 1 << (h & 31);
      const offset = this.flips & bit ? 1 : 0;
      this.flips ^= bit;
      const half = (size - odd) / 2;
      const upper = this.reserve(h + 1, half);
      let at = this.sizes[h + 1]!;
      for (let j = offset; j < size - odd; j += 2) upper[at++] = view[j]!;
      this.sizes[h + 1] = at;
      if (odd === 1) buf[0] = view[size - 1]!;
      this.sizes[h] = odd;
    }
  }
}

/** First buffer size of a level: a minute of readings every few seconds fits without growing. */
const INITIAL = 16;

function grow(buf: Float64Array, capacity: number): Float64Array {
  const next = new Float64Array(capacity);
  next.set(buf);
  return next;
}
