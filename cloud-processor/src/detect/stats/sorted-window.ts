import { Slab } from './slab.js';

/**
 * The last `capacity` values of a series, kept both in arrival order (a ring, to know which value
 * leaves) and sorted (to read the median and MAD without sorting per point). Each push costs
 * O(capacity) for the shift in the sorted array, the median O(1), the MAD O(capacity).
 *
 * Both in one region of a slab (slab.ts), the sorted values first and the ring after them, which grows with the
 * values held (by half again each time, up to `capacity`): a series holds what it has seen, not the
 * bound it may reach (a day of a young series' windows, not 1,500).
 *
 * While every value held is the same (a series' intervals between windows: the window length,
 * again and again), the region holds that value once: the sorted array and the ring of n equal
 * values tell nothing more (the intervals' windows of three members held 1 kB a series at minute
 * windows). The first other value spreads it into both; they fold back into one value when the
 * other values have left.
 */
export class SortedWindow {
  /** Region of the slab: [0 … room) sorted, [room … 2 room) the ring; with room 0, the one value every value held is (see the class comment). */
  private readonly region: number;
  private room = 0;
  private head = 0;
  private size = 0;

  /**
   * `precision` 32 halves the memory for values that need no more (normalised scores); a value
   * is then rounded to float32 when pushed, and a snapshot of the rounded values restores exactly.
   * `slab`: the owner's (one buffer for all of a detector's arrays), else one of its own.
   */
  constructor(
    readonly capacity: number,
    init?: readonly number[],
    private readonly precision: 32 | 64 = 64,
    private readonly slab: Slab = new Slab(),
  ) {
    // An empty window holds no bytes (the first value grows it).
    this.region = slab.alloc(0);
    for (const x of init ?? []) this.push(x);
  }

  private get bytesPer(): number {
    return this.precision === 32 ? 4 : 8;
  }

  /** log2 of bytesPer: offsets are shifted, not divided, so that indexes stay integers. */
  private get shift(): number {
    return this.precision === 32 ? 2 : 3;
  }

  /** The slab's view of this window's precision. */
  private get values(): Float64Array | Float32Array {
    return this.precision === 32 ? this.slab.f32 : this.slab.f64;
  }

  /** Index of the window's first value in `values`. */
  private get base(): number {
    return this.slab.at(this.region) >> this.shift;
  }

  /** Room for one more value while the window is not yet full (the ring is then in order, head = size). */
  private grow(): void {
    const room = Math.min(this.capacity, Math.max(MIN_ROOM, this.size + (this.size >> 1)));
    const old = this.values.slice(this.base, this.base + 2 * this.room);
    this.slab.resize(this.region, 2 * room * this.bytesPer, false);
    const values = this.values;
    const o = this.base;
    values.set(old.subarray(0, this.size), o);
    values.set(old.subarray(this.room, this.room + this.size), o + room);
    this.room = room;
  }

  get length(): number {
    return this.size;
  }

  push(x: number): void {
    if (this.room === 0 && this.pushSame(x)) return;
    const n = this.size;
    if (n === this.capacity) {
      const s = this.values;
      const o = this.base;
      const old = s[o + this.room + this.head]!;
      // Remove `old` from the sorted array, then insert x, shifting only the span between them.
      let i = this.indexOf(old);
      if (x >= old) {
        while (i + 1 < n && s[o + i + 1]! < x) {
          s[o + i] = s[o + i + 1]!;
          i++;
        }
      } else {
        while (i > 0 && s[o + i - 1]! > x) {
          s[o + i] = s[o + i - 1]!;
          i--;
        }
      }
      s[o + i] = x;
    } else {
      if (n === this.room) this.grow();
      const s = this.values;
      const o = this.base;
      let i = n;
      while (i > 0 && s[o + i - 1]! > x) {
        s[o + i] = s[o + i - 1]!;
        i--;
      }
      s[o + i] = x;
      this.size++;
    }
    this.values[this.base + this.room + this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    const s = this.values;
    const o = this.base;
    // Every value held alike again (±0 aside, which compare equal but are not the same): one value.
    if (s[o]! === s[o + this.size - 1]! && s[o] !== 0 && this.allAlike()) this.fold(s[o]!);
  }

  /** Whether the sorted values are all one (equal ends say so, unless a NaN, unordered, sits between them). */
  private allAlike(): boolean {
    const s = this.values;
    const o = this.base;
    for (let i = 1; i < this.size - 1; i++) if (s[o + i] !== s[o]) return false;
    return true;
  }

  /** With every value held alike (room 0): holds x when it is that value too (or the first) and says so; else spreads the window out. */
  private pushSame(x: number): boolean {
    const n = this.size;
    if (n === 0) {
      this.fold(x);
      this.size = 1;
      return true;
    }
    const v = this.values[this.base]!;
    if (Object.is(this.precision === 32 ? Math.fround(x) : x, v)) {
      if (n < this.capacity) this.size++;
      return true;
    }
    // n copies of v, sorted and in the ring (in order: head = n, or 0 when full, any of them the oldest).
    const room = n === this.capacity ? n : Math.min(this.capacity, Math.max(MIN_ROOM, n + (n >> 1)));
    this.slab.resize(this.region, 2 * room * this.bytesPer, false);
    const s = this.values;
    const o = this.base;
    s.fill(v, o, o + n);
    s.fill(v, o + room, o + room + n);
    this.room = room;
    this.head = n % this.capacity;
    return false;
  }

  /** Holds the window's values (every one v) as v alone. */
  private fold(v: number): void {
    this.slab.resize(this.region, this.bytesPer, false);
    this.values[this.base] = v;
    this.room = 0;
  }

  /** Position of a value known to be held (binary search over the sorted array). */
  private indexOf(x: number): number {
    const s = this.values;
    const o = this.base;
    let lo = 0;
    let hi = this.size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[o + mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The q-quantile (0..1) by linear interpolation; NaN when empty. */
  quantile(q: number): number {
    if (this.size === 0) return Number.NaN;
    const pos = q * (this.size - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    const s = this.values;
    const o = this.base;
    const one = this.room === 0;
    const a = s[o + (one ? 0 : i)]!;
    return f === 0 ? a : a + f * (s[o + (one ? 0 : i + 1)]! - a);
  }

  median(): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const mid = this.room === 0 ? 0 : n >> 1;
    const s = this.values;
    const o = this.base;
    return n % 2 === 1 ? s[o + mid]! : (s[o + mid - (this.room === 0 ? 0 : 1)]! + s[o + mid]!) / 2;
  }

  /**
   * Median absolute deviation from `center`: the distances to it, read outward from the center
   * of the sorted array, form two sorted runs (down from j − 1, up from j); the median of their
   * union is found by bisection on how many to take from each, O(log n).
   */
  mad(center: number): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const s = this.values;
    const o = this.base;
    if (this.room === 0) {
      // Every distance alike, as kthDistance reads it: below the center, or from it up.
      const d = s[o]! < center ? center - s[o]! : s[o]! - center;
      return n % 2 === 1 ? d : (d + d) / 2;
    }
    // j: first index with s[j] >= center.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[o + mid]! < center) lo = mid + 1;
      else hi = mid;
    }
    const k = n >> 1; // 0-based rank of the upper middle
    const upper = kthDistance(s, o, center, lo, n, k);
    return n % 2 === 1 ? upper : (kthDistance(s, o, center, lo, n, k - 1) + upper) / 2;
  }

  /** Values in arrival order, oldest first (for snapshots). */
  toArray(): number[] {
    const out: number[] = [];
    const start = this.size === this.capacity ? this.head : 0;
    const s = this.values;
    const o = this.base + this.room;
    for (let i = 0; i < this.size; i++)
      out.push(this.room === 0 ? s[this.base]! : s[o + ((start + i) % this.capacity)]!);
    return out;
  }
}

/** Values a window first makes room for. */
const MIN_ROOM = 8;

/**
 * The k-th smallest (0-based) of the distances |s[i] − center| over the sorted s[0..n) (held in
 * `values` from index `o`), where
 * s[0..j) < center ≤ s[j..n): the left run A(i) = center − s[j − 1 − i] (i < j) and the right run
 * B(i) = s[j + i] − center (i < n − j) are ascending, so take a of the k + 1 from A and k + 1 − a
 * from B, bisecting on a.
 */
function kthDistance(
  values: Float64Array | Float32Array,
  o: number,
  center: number,
  j: number,
  n: number,
  k: number,
): number {
  const nA = j;
  const nB = n - j;
  const A = (i: number): number => (i < 0 ? -Infinity : i >= nA ? Infinity : center - values[o + j - 1 - i]!);
  const B = (i: number): number => (i < 0 ? -Infinity : i >= nB ? Infinity : values[o + j + i]! - center);
  const want = k + 1;
  let lo = Math.max(0, want - nB);
  let hi = Math.min(want, nA);
  while (lo <= hi) {
    const a = (lo + hi) >> 1;
    const b = want - a;
    if (a < hi && B(b - 1) > A(a)) lo = a + 1;
    else if (a > lo && A(a - 1) > B(b)) hi = a - 1;
    else return Math.max(A(a - 1), B(b - 1));
  }
  return Number.NaN;
}
