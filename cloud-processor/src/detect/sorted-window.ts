/**
 * The last `capacity` values of a series, kept both in arrival order (a ring, to know which value
 * leaves) and sorted (to read the median and MAD without sorting per point). Each push costs
 * O(capacity) for the shift in the sorted array, the median O(1), the MAD O(capacity).
 */
export class SortedWindow {
  private readonly ring: Float64Array | Float32Array;
  private readonly sorted: Float64Array | Float32Array;
  private head = 0;
  private size = 0;

  /**
   * `precision` 32 halves the memory for values that need no more (normalised scores); a value
   * is then rounded to float32 when pushed, and a snapshot of the rounded values restores exactly.
   */
  constructor(readonly capacity: number, init?: readonly number[], precision: 32 | 64 = 64) {
    this.ring = precision === 32 ? new Float32Array(capacity) : new Float64Array(capacity);
    this.sorted = precision === 32 ? new Float32Array(capacity) : new Float64Array(capacity);
    for (const x of init ?? []) this.push(x);
  }

  get length(): number {
    return this.size;
  }

  push(x: number): void {
    const n = this.size;
    if (n === this.capacity) {
      const old = this.ring[this.head]!;
      // Remove `old` from the sorted array, then insert x, shifting only the span between them.
      let i = this.indexOf(old);
      const s = this.sorted;
      if (x >= old) {
        while (i + 1 < n && s[i + 1]! < x) { s[i] = s[i + 1]!; i++; }
      } else {
        while (i > 0 && s[i - 1]! > x) { s[i] = s[i - 1]!; i--; }
      }
      s[i] = x;
    } else {
      const s = this.sorted;
      let i = n;
      while (i > 0 && s[i - 1]! > x) { s[i] = s[i - 1]!; i--; }
      s[i] = x;
      this.size++;
    }
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Position of a value known to be held (binary search over the sorted array). */
  private indexOf(x: number): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < x) lo = mid + 1;
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
    const a = this.sorted[i]!;
    return f === 0 ? a : a + f * (this.sorted[i + 1]! - a);
  }

  median(): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const mid = n >> 1;
    return n % 2 === 1 ? this.sorted[mid]! : (this.sorted[mid - 1]! + this.sorted[mid]!) / 2;
  }

  /**
   * Median absolute deviation from `center`: the distances to it, read outward from the center
   * of the sorted array, form two sorted runs; merging them for n/2 steps finds the median.
   */
  mad(center: number): number {
    const n = this.size;
    if (n === 0) return Number.NaN;
    const s = this.sorted;
    // j: first index with s[j] >= center; left run goes down from j-1, right run up from j.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! < center) lo = mid + 1;
      else hi = mid;
    }
    let l = lo - 1;
    let r = lo;
    const take = (): number => {
      const dl = l >= 0 ? center - s[l]! : Infinity;
      const dr = r < n ? s[r]! - center : Infinity;
      if (dl <= dr) { l--; return dl; }
      r++;
      return dr;
    };
    const k = n >> 1; // 0-based rank of the upper middle
    let prev = 0;
    let cur = 0;
    for (let i = 0; i <= k; i++) { prev = cur; cur = take(); }
    return n % 2 === 1 ? cur : (prev + cur) / 2;
  }

  /** Values in arrival order, oldest first (for snapshots). */
  toArray(): number[] {
    const out: number[] = [];
    const start = this.size === this.capacity ? this.head : 0;
    for (let i = 0; i < this.size; i++) out.push(this.ring[(start + i) % this.capacity]!);
    return out;
  }
}
