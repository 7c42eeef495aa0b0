/**
 * Lines of line protocol as one UTF-8 buffer, with where each line starts: what the InfluxDB
 * writer keeps of a batch until it is durable, and cuts request bodies from. The encoder writes
 * into it piece by piece (no string per line, no array of them to join and encode again), and
 * a point that fails half-way is taken back whole (`abandon`), so it costs only itself.
 */
export interface EncodedLines {
  /** The lines joined by newlines (no newline after the last), UTF-8. */
  readonly bytes: Buffer;
  /** Where line i starts in `bytes`; starts[length] is bytes.length + 1 (where a next line would start). */
  readonly starts: Uint32Array;
  /** How many lines. */
  readonly length: number;
}

/** A group of lines as the InfluxDB writer takes them: strings, or bytes already (PointEncoder.batchBytes). */
export type Lines = readonly string[] | EncodedLines;

/** The lines as strings (for tests and logs; the writer keeps bytes). */
export function lineTexts(lines: Lines): string[] {
  if (Array.isArray(lines)) return [...(lines as readonly string[])];
  const e = lines as EncodedLines;
  return Array.from({ length: e.length }, (_, i) => e.bytes.toString('utf8', e.starts[i], e.starts[i + 1]! - 1));
}

const NEWLINE = 0x0a;
/** `number` writes the digits itself for up to this many fraction digits … */
const MAX_FRACTION_DIGITS = 6;
const POWERS_OF_TEN = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
/** … and below this magnitude of the digits as a whole number (10^15: doubles closer together than a unit). */
const MAX_PLAIN_DIGITS_VALUE = 1e15;
/** 10^i: a whole number has more than i digits from DIGIT_LIMITS[i] on (up to 15 of them). */
const DIGIT_LIMITS = Array.from({ length: 16 }, (_, i) => 10 ** i);
const INT32_MAX = 2 ** 31 - 1;

/**
 * A reusable writer of EncodedLines: `begin()` a line, write its pieces, `commit()` it (or
 * `abandon()` it), and `finish()` copies the lines out and starts afresh. Its scratch buffer grows
 * to the largest batch written and stays (one per encoder).
 */
export class LineBytes {
  private buf: Buffer;
  private at = 0;
  private mark = 0;
  private starts = new Uint32Array(256);
  private count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Lines committed since the last finish. */
  get length(): number {
    return this.count;
  }

  /** Starts a line (after a newline when it is not the first). */
  begin(): void {
    this.mark = this.at;
    if (this.count > 0) {
      this.room(1);
      this.buf[this.at++] = NEWLINE;
    }
  }

  /** Keeps the line begun. */
  commit(): void {
    if (this.count + 1 >= this.starts.length) {
      const grown = new Uint32Array(this.starts.length * 2);
      grown.set(this.starts);
      this.starts = grown;
    }
    this.starts[this.count] = this.count === 0 ? this.mark : this.mark + 1;
    this.count++;
  }

  /** Forgets every line since the last finish: a user starts with it, so a batch that threw half-way leaves nothing to the next. */
  clear(): void {
    this.at = 0;
    this.mark = 0;
    this.count = 0;
  }

  /** Takes back everything written since `begin()`. */
  abandon(): void {
    this.at = this.mark;
  }

  /** Writes a string as UTF-8: a loop for ASCII (the usual case: names and numbers), Buffer.write beyond. */
  text(s: string): void {
    const n = s.length;
    this.room(n);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        this.at = at;
        this.room(3 * (n - i));
        this.at += this.buf.write(s.slice(i), this.at, 'utf8');
        return;
      }
      buf[at++] = c;
    }
    this.at = at;
  }

  /**
   * A number exactly as `String(x)` writes it (the form both encoders use for floats and
   * integers), without making the string when it is a decimal of at most 6 fraction digits and 15
   * significant ones (what sensors and agents send; String(x) cost ~220 ns a number on the bench
   * machine, the digits ~95). Why it is the same: with k the fewest fraction digits for which
   * m = round(x·10^k) gives m / 10^k === x, the decimal m·10^-k reads back as x (division and
   * parsing both round correctly), no decimal of fewer digits does (it would have been found at a
   * smaller k), and below 10^15 no other decimal of k fraction digits reads back as x (doubles
   * there are closer together than 10^-k): so it is ECMA-262's Number::toString digits, written
   * without an exponent as it writes them for 10^-6 ≤ |x| < 10^21. Anything else: String(x).
   */
  number(x: number): void {
    for (let k = 0; k <= MAX_FRACTION_DIGITS; k++) {
      const scale = POWERS_OF_TEN[k]!;
      const m = Math.round(x * scale);
      if (m / scale !== x) continue;
      if (!(Math.abs(m) < MAX_PLAIN_DIGITS_VALUE)) break;
      this.decimal(m, k);
      return;
    }
    this.text(String(x));
  }

  /** `prefix`, then a number as `number` writes it, then `suffix`: a field of a line in one call. */
  field(prefix: string, x: number, suffix = ''): void {
    this.text(prefix);
    this.number(x);
    if (suffix !== '') this.text(suffix);
  }

  /** The lines committed, copied out; the writer is empty again. */
  finish(): EncodedLines {
    const length = this.count;
    const end = this.at;
    const bytes = Buffer.allocUnsafeSlow(end);
    this.buf.copy(bytes, 0, 0, end);
    const starts = this.starts.slice(0, length + 1);
    starts[length] = end + 1;
    this.at = 0;
    this.mark = 0;
    this.count = 0;
    return { bytes, starts, length };
  }

  /** Writes m·10^-k (m a whole number below 10^15 in magnitude, -0 as 0) in the fewest digits. */
  private decimal(m: number, k: number): void {
    this.room(24);
    const buf = this.buf;
    let at = this.at;
    if (m === 0) {
      buf[at] = 0x30;
      this.at = at + 1;
      return;
    }
    if (m < 0) {
      buf[at++] = 0x2d;
      m = -m;
    }
    let digits = 1;
    while (digits < DIGIT_LIMITS.length && m >= DIGIT_LIMITS[digits]!) digits++;
    if (digits <= k) {
      // 0.00ddd: a zero, the point, and zeros up to the digits.
      buf[at++] = 0x30;
      buf[at++] = 0x2e;
      for (let z = digits; z < k; z++) buf[at++] = 0x30;
    }
    const end = at + digits + (digits > k && k > 0 ? 1 : 0);
    let w = end - 1;
    let written = 0;
    // Digits from the last, the point after the k-th; in 32-bit integers once the rest fits.
    for (; m > INT32_MAX; m = Math.floor(m / 10)) {
      buf[w--] = 0x30 + (m % 10);
      if (++written === k) buf[w--] = 0x2e;
    }
    for (let v = m | 0; v > 0; ) {
      const q = (v / 10) | 0;
      buf[w--] = 0x30 + v - q * 10;
      v = q;
      if (++written === k && v > 0) buf[w--] = 0x2e;
    }
    this.at = end;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}
