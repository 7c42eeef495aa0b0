import { windowsIn, type DetectorContext } from '../detector.js';
import { ChangeProfile } from '../stats/change-profile.js';
import { FloatRing } from '../stats/float-ring.js';
import { QuantileChunks, type QuantileChunksState } from '../stats/quantile-chunks.js';
import { Slab } from '../stats/slab.js';
import { SortedWindow } from '../stats/sorted-window.js';
import type { DriftConfig } from './drift.js';

/** The time over which changes are summed to measure how the wander adds up (its long-run scale). */
export const SPAN_MS = 3_600_000;
/** Scales are re-measured this often (they move slowly, and measuring sorts the history). */
const RESCALE_MS = 4 * 3_600_000;
/** Windows of history at most (a bound on a series' state: three days of 60-second windows fit). */
const MAX_HISTORY = 5_000;

export interface DriftSnapshot {
  lastMean: number | null;
  lastTs: number | null;
  intervals: number[];
  expected: number[];
  seen: number[];
  /** Absent in older snapshots (then the expected change's size). */
  peak?: number[];
  today: { bin: number; cycle: number; sum: number; count: number };
  /** Of older snapshots: every excess of the history (replayed into the chunks). */
  excesses?: string;
  /** The last two spans' excesses (float32, oldest first, as base64), and the summaries of the history's. */
  recent?: string;
  excessChunks?: QuantileChunksState;
  sumChunks?: QuantileChunksState;
  /** Excesses learnt into the span being filled. */
  fill?: number;
  scale: number;
  wander: number;
  up: number;
  down: number;
  runFrom: number | null;
  runMean: number;
  /** Absent in older snapshots (0). */
  settle?: number;
  n: number;
}

/**
 * What the drift member (drift.ts) keeps of a series, its snapshot and restore. Its numbers are
 * float64s in a region of the series' slab (a number in a field is a 16-byte heap object of its
 * own, and today's bin was an object besides: 0.3 kB a series of heap where the slab takes 0.1),
 * read through accessors of the names the fields had (NaN in the slab for none). Drift extends
 * it with the arithmetic (no object of its own).
 */
export abstract class DriftState {
  protected readonly intervals: SortedWindow;
  /**
   * Per bin of the cycle (in the series' slab: stats/change-profile.ts):
   *
   * - expected: expected change of the mean from one window to the next, from earlier cycles only
   *   (a bin's changes of today join it when the bin is over): expecting today's own changes would
   *   take a drift under way for the normal slope of the hour;
   * - seen: cycles each bin has joined;
   * - peak: the largest change a bin has made on one day of late (fading by 1 − dayWeight a day): a
   *   room that fills on weekdays only has a small mean change at 8:50 after a weekend, but it has filled.
   */
  protected readonly profile: ChangeProfile;
  /**
   * The changes less what was expected of them when they came, over the last `history` windows:
   * the last two spans' exactly (the span being filled, and the one before it that its sums reach
   * back into; a ring, float32), the rest as summaries of each span's excesses and of the sums of
   * `span` consecutive ones ending in it (quantile-chunks.ts: 16 bytes a span where its excesses
   * took 4 each, the three days 20 kB at minute windows).
   */
  protected readonly excesses: FloatRing;
  protected readonly excessChunks: QuantileChunks;
  protected readonly sumChunks: QuantileChunks;
  /** Excesses learnt into the span being filled. */
  protected fill: number;
  protected n: number;
  /** The horizons in windows of this series' length (see DriftConfig and SPAN_MS, RESCALE_MS). */
  protected readonly history: number;
  protected readonly warmup: number;
  protected readonly span: number;
  protected readonly rescaleEvery: number;
  protected readonly slab: Slab;
  /** Region of the slab: the float64s at the slots below. */
  private readonly scalars: number;

  constructor(
    protected readonly config: DriftConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as DriftSnapshot | undefined;
    const w = context?.windowMs ?? 0;
    this.history = windowsIn(config.historyMs, w, 48, MAX_HISTORY);
    this.warmup = windowsIn(config.warmupMs, w, 24);
    this.span = windowsIn(SPAN_MS, w, 2, this.history >> 1);
    this.rescaleEvery = windowsIn(RESCALE_MS, w, 1);
    const slab = (this.slab = context?.slab ?? new Slab());
    this.scalars = slab.alloc(SCALARS * 8);
    this.lastMean = s?.lastMean ?? null;
    this.lastTs = s?.lastTs ?? null;
    const bins = config.bins;
    this.profile = new ChangeProfile(bins, slab);
    // A profile saved with another number of bins is relearnt, not misread.
    const profile = s?.expected.length === bins ? s : undefined;
    if (profile)
      this.profile.restore(
        profile.expected,
        profile.peak ?? profile.expected.map(Math.abs),
        profile.seen,
        profile.today.bin,
      );
    this.intervals = new SortedWindow(16, s?.intervals, 64, slab);
    const today = profile?.today ?? { bin: -1, cycle: 0, sum: 0, count: 0 };
    this.set(TODAY_BIN, today.bin);
    this.set(TODAY_CYCLE, today.cycle);
    this.set(TODAY_SUM, today.sum);
    this.set(TODAY_COUNT, today.count);
    this.excesses = new FloatRing(2 * this.span, s?.recent, slab);
    const chunks = Math.ceil(this.history / this.span);
    this.excessChunks = new QuantileChunks(chunks, s?.excessChunks, slab);
    this.sumChunks = new QuantileChunks(chunks, s?.sumChunks, slab);
    this.fill = s?.fill ?? 0;
    this.scale = s?.scale ?? 0;
    this.wander = s?.wander ?? 0;
    this.up = s?.up ?? 0;
    this.down = s?.down ?? 0;
    this.runFrom = s?.runFrom ?? null;
    this.runMean = s?.runMean ?? 0;
    this.settle = s?.settle ?? 0;
    this.n = s?.n ?? 0;
    // An older snapshot's history, every excess of it: replayed into the ring and the summaries.
    if (s?.excesses !== undefined && s.excessChunks === undefined) {
      const old = new FloatRing(this.history, s.excesses);
      for (let i = 0; i < old.length; i++) this.keep(old.at(i));
    }
  }

  /** Holds an excess; a span's worth closes the span into the summaries. */
  protected abstract keep(excess: number): void;

  snapshot(): DriftSnapshot {
    return {
      lastMean: this.lastMean,
      lastTs: this.lastTs,
      intervals: this.intervals.toArray(),
      ...this.profile.snapshot(),
      today: {
        bin: this.get(TODAY_BIN),
        cycle: this.get(TODAY_CYCLE),
        sum: this.get(TODAY_SUM),
        count: this.get(TODAY_COUNT),
      },
      recent: this.excesses.snapshot(),
      excessChunks: this.excessChunks.snapshot(),
      sumChunks: this.sumChunks.snapshot(),
      fill: this.fill,
      scale: this.scale,
      wander: this.wander,
      up: this.up,
      down: this.down,
      runFrom: this.runFrom,
      runMean: this.runMean,
      settle: this.settle,
      n: this.n,
    };
  }

  /** The float64 at `slot` (see the slots below). */
  protected get(slot: number): number {
    return this.slab.f64[(this.slab.at(this.scalars) >> 3) + slot]!;
  }

  protected set(slot: number, x: number): void {
    this.slab.f64[(this.slab.at(this.scalars) >> 3) + slot] = x;
  }

  /** The last window's mean and time (null before one). */
  protected get lastMean(): number | null {
    return orNull(this.get(LAST_MEAN));
  }

  protected set lastMean(x: number | null) {
    this.set(LAST_MEAN, x ?? Number.NaN);
  }

  protected get lastTs(): number | null {
    return orNull(this.get(LAST_TS));
  }

  protected set lastTs(x: number | null) {
    this.set(LAST_TS, x ?? Number.NaN);
  }

  /** Robust σ of one change after its expected part, and the long-run wander per window. */
  protected get scale(): number {
    return this.get(SCALE);
  }

  protected set scale(x: number) {
    this.set(SCALE, x);
  }

  protected get wander(): number {
    return this.get(WANDER);
  }

  protected set wander(x: number) {
    this.set(WANDER, x);
  }

  /** The CUSUM's sums up and down. */
  protected get up(): number {
    return this.get(UP);
  }

  protected set up(x: number) {
    this.set(UP, x);
  }

  protected get down(): number {
    return this.get(DOWN);
  }

  protected set down(x: number) {
    this.set(DOWN, x);
  }

  /** Where the current run of steady change started (null: none), for the alert's words. */
  protected get runFrom(): number | null {
    return orNull(this.get(RUN_FROM));
  }

  protected set runFrom(x: number | null) {
    this.set(RUN_FROM, x ?? Number.NaN);
  }

  protected get runMean(): number {
    return this.get(RUN_MEAN);
  }

  protected set runMean(x: number) {
    this.set(RUN_MEAN, x);
  }

  /**
   * What the last run of steps moved the mean (signed), fading over an hour once they stop: a level
   * that steps and settles (a room filling with ventilation's time constant: steps, then a tail of
   * ever smaller changes the same way) draws its tail on it, and its tail is not a drift.
   */
  protected get settle(): number {
    return this.get(SETTLE);
  }

  protected set settle(x: number) {
    this.set(SETTLE, x);
  }
}

/** Drift's float64s in its region of the slab: the fields above, and today's bin of the cycle (its bin, cycle, sum of changes and their count). */
const LAST_MEAN = 0;
const LAST_TS = 1;
const SCALE = 2;
const WANDER = 3;
const UP = 4;
const DOWN = 5;
const RUN_FROM = 6;
const RUN_MEAN = 7;
const SETTLE = 8;
export const TODAY_BIN = 9;
export const TODAY_CYCLE = 10;
export const TODAY_SUM = 11;
export const TODAY_COUNT = 12;
const SCALARS = 13;

function orNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
