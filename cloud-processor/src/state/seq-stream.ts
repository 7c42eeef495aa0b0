/**
 * One run of an agent's batch seqs within one epoch: the highest seq recorded and which of the
 * `window` seqs at or below it were recorded (bit i: seq max − i). A seq is known only by its own
 * bit: one below the window is not known at all (never "written long ago"), so nothing recorded
 * here can make another seq look written.
 */
export class SeqStream {
  constructor(
    readonly epoch: number,
    /** Highest seq recorded. */
    public max: number,
    readonly bits: Uint8Array,
    /** Seqs skipped over inside this stream and not (yet) received. */
    public gaps = 0,
  ) {}

  /** A stream holding `seq` alone. */
  static start(epoch: number, seq: number, window: number): SeqStream {
    const s = new SeqStream(epoch, seq, new Uint8Array(Math.ceil(window / 8)));
    s.bits[0] = 1;
    return s;
  }

  /** True when `seq` was recorded here. */
  has(seq: number): boolean {
    const age = this.max - seq;
    return age >= 0 && age < this.bits.length * 8 && (this.bits[age >> 3]! & (1 << (age & 7))) !== 0;
  }

  /**
   * How far `seq` lies from this stream: ahead of its highest seq by at most `maxGap`, or inside
   * its window; Infinity when it lies elsewhere (it belongs to another stream).
   */
  distance(seq: number, maxGap: number): number {
    if (seq > this.max) return seq - this.max <= maxGap ? seq - this.max : Infinity;
    return this.max - seq < this.bits.length * 8 ? this.max - seq : Infinity;
  }

  /** Records `seq`, which lies at a finite `distance` from this stream. */
  record(seq: number): void {
    if (seq > this.max) {
      this.gaps += seq - this.max - 1;
      shiftBits(this.bits, seq - this.max);
      this.max = seq;
      this.bits[0]! |= 1;
      return;
    }
    const age = this.max - seq;
    if ((this.bits[age >> 3]! & (1 << (age & 7))) !== 0) return;
    this.bits[age >> 3]! |= 1 << (age & 7);
    this.gaps = Math.max(0, this.gaps - 1); // a late batch filled a gap
  }
}

/** Shifts the bitmap so bit i becomes bit i + by (the highest seq moved up by `by`). */
function shiftBits(bits: Uint8Array, by: number): void {
  const size = bits.length * 8;
  if (by >= size) {
    bits.fill(0);
    return;
  }
  for (let i = size - 1; i >= 0; i--) {
    const from = i - by;
    const set = from >= 0 && (bits[from >> 3]! & (1 << (from & 7))) !== 0;
    if (set) bits[i >> 3]! |= 1 << (i & 7);
    else bits[i >> 3]! &= ~(1 << (i & 7));
  }
}
