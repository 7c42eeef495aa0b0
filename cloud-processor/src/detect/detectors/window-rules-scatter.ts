import type { SeriesPoint } from '../detector.js';
import { FloatRing } from '../stats/float-ring.js';
import type { Slab } from '../stats/slab.js';

export interface ReadingScatterState {
  steps: string;
  /** The usual (median) distance of a step from its span's trend, and the steps it was learnt from. */
  usual: number;
  learnt: number;
  /** Faded counts of the steps learnt, and of those beyond `burstRatio` times the usual distance. */
  seen: number;
  large: number;
  /** The smallest step that was not zero: a rounding sensor's quantum (absent in older snapshots). */
  quantum?: number;
}

/**
 * A noise burst in a series of few readings a window (an environment sensor's one at 60-s windows,
 * a machine temperature's two), where no window holds enough readings to have a spread of its own
 * worth judging: the steps from reading to reading, across windows as within them, over the last
 * `spanWindows` windows, each less their median (the trend they share: a room filling moves every
 * step alike). A window of up to three readings carries them all: its first, its last, and (of
 * three) the middle one, three times the mean less the two. A step is large beyond `ratio` times the
 * series' usual (median) distance from the trend; a burst (a loose connector) makes most of the
 * span's steps large, a spike or a level shift one (a lone reading's step out and its step back to
 * where the readings were count once: they are one chance, not two), and a burst is told by how unlikely that many large ones are
 * at the rate the series made them before (a binomial tail): a sensor with heavy-tailed noise makes
 * large steps more often, and needs more of them. Against the median step, not the step before
 * (a humidity sensor's noisier minutes read as a burst once in the fleet's 4 days, each unusual
 * reading three large differences of steps). A trend that turns sharply, by more than the edge in one
 * reading, reads as scatter while half the span lies either side of the turn (a room whose CO2
 * starts rising 40 ppm a minute at once, 5 σ of its steps; a room filling with ventilation's
 * time constant turns by a fraction of that). A sensor that rounds its readings coarsely (a DHT11's
 * 1 °C, five times its noise) mostly repeats its reading: its usual distance shrinks toward zero,
 * and every step of one quantum on a daily ramp read as large (44 false bursts in 54 series-days).
 * Its readings move in whole quanta, one the least it can show: the edge is at least
 * `QUANTUM_EDGE` quanta, so that a step of one quantum is never large and one of two from the trend is.
 */
export class ReadingScatter {
  /** The latest steps between consecutive readings (float32: a fleet has many series). */
  private readonly steps: FloatRing;
  /**
   * Region of the slab (float64s): USUAL, a running median of the ordinary steps' distances from
   * their span's trend (each moves it 1/horizon of itself up or down: 8 bytes, where a sketch of
   * the distances took 2.9 kB); LEARNT, the steps it has seen; SEEN and LARGE, faded counts of the
   * steps learnt and of the large ones among them; QUANTUM, the smallest step that was not zero.
   */
  private readonly scalars: number;
  /** Steps a window holds at most (a window of three's). */
  private readonly perWindow: number;
  /** Steps the latest window added (learnt if it was ordinary). */
  private added = 0;

  constructor(
    /** Windows a span holds. */
    private readonly spanWindows: number,
    /** The most readings a window of few has (`stuckMinReadings` less one). */
    maxReadings: number,
    /** Windows the rate of large steps is learnt over. */
    private readonly history: number,
    /** Windows whose steps (three a window at most), all one way, move the usual distance by a factor e. */
    private readonly horizon: number,
    saved: ReadingScatterState | undefined,
    private readonly slab: Slab,
  ) {
    this.perWindow = Math.min(maxReadings, 3);
    this.steps = new FloatRing(spanWindows * this.perWindow, saved?.steps, slab);
    this.scalars = slab.alloc(5 * 8);
    slab.setNum(this.scalars, USUAL, saved?.usual ?? 0);
    slab.setNum(this.scalars, LEARNT, saved?.learnt ?? 0);
    slab.setNum(this.scalars, SEEN, saved?.seen ?? 0);
    slab.setNum(this.scalars, LARGE, saved?.large ?? 0);
    slab.setNum(this.scalars, QUANTUM, saved?.quantum ?? 0);
  }

  /**
   * A window of few readings: its steps are held (the first from `prevLast`, the previous window's
   * last reading, when the windows are consecutive). One of four or more (few when
   * `stuckMinReadings` is above 4) has no middle reading its mean tells: its last less its first
   * spans several steps' trend, unlike every other step held, and only the step across is.
   */
  see(p: SeriesPoint, prevLast: number, consecutive: boolean): void {
    const first = p.first ?? p.value;
    const last = p.last ?? p.value;
    this.added = 0;
    if (consecutive && Number.isFinite(prevLast)) this.hold(first - prevLast, p.value);
    if (p.count === 3) {
      const middle = 3 * p.value - first - last;
      this.hold(middle - first, p.value);
      this.hold(last - middle, p.value);
    } else if (p.count === 2) this.hold(last - first, p.value);
  }

  /** A step held; the smallest that is not zero (beyond the arithmetic's precision at `level`) is the quantum. */
  private hold(step: number, level: number): void {
    this.steps.push(step);
    this.added++;
    const size = Math.abs(step);
    const quantum = this.slab.num(this.scalars, QUANTUM);
    if (size > ZERO_STEP * Math.max(1, Math.abs(level)) && !(quantum > 0 && quantum <= size))
      this.slab.setNum(this.scalars, QUANTUM, size);
  }

  /** How far from the trend a step is large: `ratio` times the usual distance, and never within `QUANTUM_EDGE` quanta. */
  private edge(ratio: number, usual: number): number {
    return Math.max(ratio * usual, QUANTUM_EDGE * this.slab.num(this.scalars, QUANTUM));
  }

  /**
   * How surprising the span ending at the latest window is, as log10 of the chance of its large
   * steps at the series' rate of them over log10 of `alarmRate` (1 at that chance); 0 while fewer
   * than `atLeast` were learnt, or the span is not yet full. `large` of `of` steps were large. The
   * answer is one shared object (SPAN_SURPRISE), overwritten by the next call: read it at once.
   */
  surprise(count: number, ratio: number, alarmRate: number, atLeast: number): Readonly<SpanSurprise> {
    const k = Math.min(this.steps.length, this.spanWindows * stepsOf(count));
    if (k < Math.max(3, this.spanWindows) || this.slab.num(this.scalars, LEARNT) < atLeast)
      return spanSurprise(0, 0, 0);
    const edge = this.edge(ratio, this.slab.num(this.scalars, USUAL));
    if (!(edge > 0)) return spanSurprise(0, 0, 0);
    const trend = this.trend(k);
    const large = this.countLarge(k, trend, edge, 0);
    // The rate of large steps, a rule of succession over the faded counts (never 0 or 1).
    const rate = (this.slab.num(this.scalars, LARGE) + 1) / (this.slab.num(this.scalars, SEEN) + 2);
    return spanSurprise(log10BinomialTail(k, large, rate) / Math.log10(alarmRate), large, k);
  }

  /** The latest window was ordinary: its steps' distances from the trend are learnt as usual, and whether each was large. */
  learn(ratio: number): void {
    const n = this.steps.length;
    const usual = this.slab.num(this.scalars, USUAL);
    const edge = usual > 0 ? this.edge(ratio, usual) : Number.NaN;
    const keep = 1 - 1 / (this.history * this.perWindow);
    const k = Math.min(n, this.spanWindows * this.perWindow);
    const trend = this.trend(k);
    // A running median: up or down by the same factor, it settles where half lie either side.
    const up = 1 + 1 / (this.horizon * this.perWindow);
    let median = usual;
    for (let i = Math.max(0, n - this.added); i < n; i++) {
      const x = Math.abs(this.steps.at(i) - trend);
      median = !(median > 0) ? x : x > median ? median * up : x < median ? median / up : median;
    }
    this.slab.setNum(this.scalars, USUAL, median);
    this.slab.setNum(this.scalars, LEARNT, this.slab.num(this.scalars, LEARNT) + this.added);
    if (Number.isNaN(edge)) return;
    const added = Math.min(this.added, k);
    const large = this.countLarge(k, trend, edge, k - added);
    this.slab.setNum(this.scalars, SEEN, keep ** added * this.slab.num(this.scalars, SEEN) + added);
    this.slab.setNum(this.scalars, LARGE, keep ** added * this.slab.num(this.scalars, LARGE) + large);
  }

  /**
   * The large steps among the latest k (beyond `edge` from the trend), those from the `from`-th on
   * counted. A large step back right after a large one out, to where the readings were before (the
   * two together no larger than the edge: the readings either side of the one between agree), is one
   * unusual reading's, counted once: its two steps are not two chances. In a burst the readings
   * either side disagree as well.
   */
  private countLarge(k: number, trend: number, edge: number, from: number): number {
    let counted = 0;
    // The previous step's distance from the trend, when it was large and counted (else 0).
    let previous = 0;
    const start = this.steps.length - k;
    for (let j = 0; j < k; j++) {
      const d = this.steps.at(start + j) - trend;
      const large = Math.abs(d) > edge;
      const back = large && previous !== 0 && Math.abs(d + previous) <= edge;
      previous = large && !back ? d : 0;
      if (previous !== 0 && j >= from) counted++;
    }
    return counted;
  }

  /** The median of the latest k steps: the trend they share. */
  private trend(k: number): number {
    if (scratch.length < k) scratch = new Float64Array(k);
    const xs = scratch.subarray(0, k);
    const from = this.steps.length - k;
    for (let i = 0; i < k; i++) xs[i] = this.steps.at(from + i);
    xs.sort();
    const h = k >> 1;
    return k % 2 === 1 ? xs[h]! : (xs[h - 1]! + xs[h]!) / 2;
  }

  snapshot(): ReadingScatterState {
    return {
      steps: this.steps.snapshot(),
      usual: this.slab.num(this.scalars, USUAL),
      learnt: this.slab.num(this.scalars, LEARNT),
      seen: this.slab.num(this.scalars, SEEN),
      large: this.slab.num(this.scalars, LARGE),
      quantum: this.slab.num(this.scalars, QUANTUM),
    };
  }
}

/** Steps a window of `count` readings holds (when consecutive with the one before): the step across, and those between its readings when it has no more than three. */
function stepsOf(count: number): number {
  return count === 2 || count === 3 ? count : 1;
}

interface SpanSurprise {
  ratio: number;
  large: number;
  of: number;
}

/** `surprise`'s answer, reused: the one caller (window-rules) reads it before asking again, so no object per window. */
const SPAN_SURPRISE: SpanSurprise = { ratio: 0, large: 0, of: 0 };

function spanSurprise(ratio: number, large: number, of: number): SpanSurprise {
  SPAN_SURPRISE.ratio = ratio;
  SPAN_SURPRISE.large = large;
  SPAN_SURPRISE.of = of;
  return SPAN_SURPRISE;
}

/** Scratch for the latest steps (a span holds a few dozen): no array per window. */
let scratch = new Float64Array(64);

const USUAL = 0;
const LEARNT = 1;
const SEEN = 2;
const LARGE = 3;
const QUANTUM = 4;

/**
 * A step is zero below this fraction of the level (as the window rules' floor): a window of three's
 * middle reading, from its mean, differs from the reading by the arithmetic's rounding.
 */
const ZERO_STEP = 1e-6;

/**
 * The least distance from the trend, in quanta, that is large. A rounding sensor's steps are whole
 * quanta, their median (the trend) a whole or half one: their distances from it come in half quanta,
 * and one quantum's step from a trend half a quantum the other way (a ramp's steps half 0, half −1)
 * lies 1.5 quanta from it, as a matter of course. The edge lies between that and two (a float's
 * rounding makes one quantum's steps differ in their last bits: never exactly at a possible distance).
 */
const QUANTUM_EDGE = 1.75;

/**
 * log10 of P(X ≥ m) for X binomial with n trials of chance p, summed in logarithms: a span of many
 * steps (180 at 10-s windows of three readings) makes chances below the smallest double, whose
 * log10 is then -Infinity (and a score NaN). Each term from the one at m by its ratio to the next,
 * added to the largest so far (log-sum-exp); past the largest they only shrink, and stop mattering
 * 40 e-folds below it.
 */
export function log10BinomialTail(n: number, m: number, p: number): number {
  if (m <= 0) return 0;
  if (m > n) return Number.NEGATIVE_INFINITY;
  let term = m * Math.log(p) + (n - m) * Math.log1p(-p);
  for (let i = 0; i < m; i++) term += Math.log((n - i) / (m - i));
  const odds = Math.log(p / (1 - p));
  let largest = term;
  // The sum of the terms so far, in units of the largest.
  let sum = 0;
  for (let j = m; j <= n && term > largest - 40; j++) {
    if (term > largest) {
      sum = sum * Math.exp(largest - term) + 1;
      largest = term;
    } else sum += Math.exp(term - largest);
    term += Math.log((n - j) / (j + 1)) + odds;
  }
  return Math.min(0, (largest + Math.log(sum)) / Math.LN10);
}
