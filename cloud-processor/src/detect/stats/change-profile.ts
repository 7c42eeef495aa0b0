import { Slab } from './slab.js';

/**
 * Bytes a bin: its expected change (float64), its peak (float32) and the cycles it has seen (a
 * count in a float32, exact up to 2^24: no uint32 view of the slab for one count a bin).
 */
const RECORD = 16;

/**
 * The drift member's profile of a cycle (drift.ts): per bin, the expected change of the mean from
 * one window to the next (float64), the largest change of late (float32) and the cycles the bin
 * has joined, one 16-byte record a bin in a region of the series' slab. Records are kept
 * from the first bin written onwards (round the cycle), as far as the cycle has reached: time
 * moves forward, so a series seen for two hours holds eight of the day's 96 bins, not all of them
 * (1.5 kB a series whatever its age before); the room grows to the bin the cycle has reached. A
 * bin never written reads 0, as the zero-filled arrays did.
 */
export class ChangeProfile {
  private readonly region: number;
  /** The first bin held (records run round the cycle from it). */
  private first = 0;

  constructor(
    readonly count: number,
    private readonly slab: Slab = new Slab(),
  ) {
    this.region = slab.alloc(0);
  }

  /** The record index of bin b, or −1 when it is not held. */
  private index(b: number): number {
    const i = b >= this.first ? b - this.first : b - this.first + this.count;
    return i < this.slab.bytes(this.region) / RECORD ? i : -1;
  }

  /** Byte offset of bin b's record (held). */
  private at(i: number): number {
    return this.slab.at(this.region) + RECORD * i;
  }

  expected(b: number): number {
    const i = this.index(b);
    return i < 0 ? 0 : this.slab.f64[this.at(i) >> 3]!;
  }

  peak(b: number): number {
    const i = this.index(b);
    return i < 0 ? 0 : this.slab.f32[(this.at(i) + 8) >> 2]!;
  }

  seen(b: number): number {
    const i = this.index(b);
    return i < 0 ? 0 : this.slab.f32[(this.at(i) + 12) >> 2]!;
  }

  /** Bin b's record, as stored (expected in float64, peak rounded to float32, seen a whole count). */
  set(b: number, expected: number, peak: number, seen: number): void {
    const held = this.slab.bytes(this.region) / RECORD;
    if (held === 0) this.first = b;
    const i = b >= this.first ? b - this.first : b - this.first + this.count;
    // Grown to the bin reached (a bin a quarter hour: room to spare, half again, was a fifth of a young series' profile).
    if (i >= held) this.slab.resize(this.region, RECORD * (i + 1));
    const at = this.at(i);
    this.slab.f64[at >> 3] = expected;
    this.slab.f32[(at + 8) >> 2] = peak;
    this.slab.f32[(at + 12) >> 2] = seen;
  }

  /**
   * Restores a profile saved as whole arrays: the bins written, oldest first (from the one after
   * `newest`, round the cycle), so that a young series' record stays as short as it was.
   */
  restore(expected: readonly number[], peak: readonly number[], seen: readonly number[], newest: number): void {
    for (let k = 1; k <= this.count; k++) {
      const b = (((newest + k) % this.count) + this.count) % this.count;
      if (expected[b] !== 0 || peak[b] !== 0 || seen[b] !== 0) this.set(b, expected[b]!, peak[b]!, seen[b]!);
    }
  }

  /** The profile as whole arrays, one entry a bin (a snapshot's form). */
  snapshot(): { expected: number[]; seen: number[]; peak: number[] } {
    const out = { expected: [] as number[], seen: [] as number[], peak: [] as number[] };
    for (let b = 0; b < this.count; b++) {
      out.expected.push(this.expected(b));
      out.seen.push(this.seen(b));
      out.peak.push(this.peak(b));
    }
    return out;
  }
}
