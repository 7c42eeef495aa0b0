import { z } from 'zod';
import {
  formatValue as fmt,
  quiet,
  windowsIn,
  verdict,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { ChangeProfile } from '../stats/change-profile.js';
import { FloatRing } from '../stats/float-ring.js';
import { QuantileChunks, robustSigma, type QuantileChunksState } from '../stats/quantile-chunks.js';
import { Slab } from '../stats/slab.js';
import { SortedWindow } from '../stats/sorted-window.js';

export const DriftConfig = z.object({
  /** The cycle whose slope is expected (a day); its phase comes from the timestamp. */
  periodMs: z.number().int().positive().default(86_400_000),
  /** Bins of the cycle, each with its own expected window-to-window change (15 minutes by default: a room filling at 8:50 is not the hour's average). */
  bins: z.number().int().min(1).max(288).default(96),
  /** Weight of a new day in a bin's expected change, once the bin has seen 1/dayWeight days (plain mean before). */
  dayWeight: z.number().gt(0).max(1).default(0.3),
  /**
   * How far back the changes reach from which the usual wander is measured (three days: a day holds
   * only 24 independent hours, too few to trust; 48 to 5,000 windows of the series' own length).
   */
  historyMs: z.number().int().positive().default(259_200_000),
  /** History a series must have before it is judged (two days: one day's slope by hour is mostly that day's weather). */
  warmupMs: z.number().int().min(0).default(172_800_000),
  /** Steady change per window, in units of the usual wander, that the sum lets pass (CUSUM slack). */
  slack: z.number().min(0).default(0.75),
  /** Accumulated steady change, in the same units, that makes a drift (CUSUM threshold). */
  threshold: z.number().positive().default(10),
  /**
   * A change this many times the usual one is a step (another member's business, or a machine
   * switching between levels): it starts the sums afresh and is not learnt. A ramp up to this
   * steep still adds up.
   */
  stepRatio: z.number().gt(1).default(5),
  /** Bins of the cycle whose expected change exceeds this many units (a machine starting, a room filling) add nothing. */
  systematicRatio: z.number().positive().default(1.5),
  /** Surprise reported exactly at the threshold (the ensemble's alarm level). */
  alarmSurprise: z.number().positive().default(4),
});
export type DriftConfig = z.output<typeof DriftConfig>;

/** The time over which changes are summed to measure how the wander adds up (its long-run scale). */
const SPAN_MS = 3_600_000;
/** Scales are re-measured this often (they move slowly, and measuring sorts the history). */
const RESCALE_MS = 4 * 3_600_000;
/** Windows of history at most (a bound on a series' state: three days of 60-second windows fit). */
const MAX_HISTORY = 5_000;

interface State {
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
 * A sensor drifting away (fouling, ageing, a failing reference) as opposed to the weather moving
 * it: a slow ramp shows no single large step, so the step and level members miss it until it ends.
 * What sets it apart is persistence: window after window the mean moves the same way by more than
 * the series' usual wander. So this member takes each window-to-window change of the mean, removes
 * the change expected at this time of the cycle (a daily warm-up is not a drift), divides by the
 * series' own long-run wander (how far its changes add up over an hour, so a series whose changes
 * alternate is not mistaken for one that walks), and sums the excess both ways in a CUSUM. A step
 * starts the sums afresh; times of the cycle whose expected change is large (a machine starting, a room filling
 * on weekdays only) add nothing, since a day off would look like a drift there. Window aggregates
 * only (count > 1); raw rows get no verdict.
 */
class Drift implements Detector {
  private lastMean: number | null;
  private lastTs: number | null;
  private readonly intervals: SortedWindow;
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
  private readonly profile: ChangeProfile;
  private readonly today: { bin: number; cycle: number; sum: number; count: number };
  /**
   * The changes less what was expected of them when they came, over the last `history` windows:
   * the last two spans' exactly (the span being filled, and the one before it that its sums reach
   * back into; a ring, float32), the rest as summaries of each span's excesses and of the sums of
   * `span` consecutive ones ending in it (quantile-chunks.ts: 16 bytes a span where its excesses
   * took 4 each, the three days 20 kB at minute windows).
   */
  private readonly excesses: FloatRing;
  private readonly excessChunks: QuantileChunks;
  private readonly sumChunks: QuantileChunks;
  private fill: number;
  /** Robust σ of one change after its expected part, and the long-run wander per window. */
  private scale: number;
  private wander: number;
  private up: number;
  private down: number;
  /** Where the current run of steady change started, for the alert's words. */
  private runFrom: number | null;
  private runMean: number;
  /**
   * What the last run of steps moved the mean (signed), fading over an hour once they stop: a level
   * that steps and settles (a room filling with ventilation's time constant: steps, then a tail of
   * ever smaller changes the same way) draws its tail on it, and its tail is not a drift.
   */
  private settle: number;
  private n: number;
  /** The horizons in windows of this series' length (see DriftConfig and SPAN_MS, RESCALE_MS). */
  private readonly history: number;
  private readonly warmup: number;
  private readonly span: number;
  private readonly rescaleEvery: number;

  constructor(
    private readonly config: DriftConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    const w = context?.windowMs ?? 0;
    this.history = windowsIn(config.historyMs, w, 48, MAX_HISTORY);
    this.warmup = windowsIn(config.warmupMs, w, 24);
    this.span = windowsIn(SPAN_MS, w, 2, this.history >> 1);
    this.rescaleEvery = windowsIn(RESCALE_MS, w, 1);
    this.lastMean = s?.lastMean ?? null;
    this.lastTs = s?.lastTs ?? null;
    const slab = context?.slab ?? new Slab();
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
    this.today = profile?.today ?? { bin: -1, cycle: 0, sum: 0, count: 0 };
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

  update(p: SeriesPoint): Verdict {
    if (p.count <= 1 || !Number.isFinite(p.value)) return quiet(p.value);
    const interval = this.lastTs !== null && p.ts > this.lastTs ? p.ts - this.lastTs : undefined;
    if (interval !== undefined) this.intervals.push(interval);
    const previous = this.lastMean;
    const previousTs = this.lastTs;
    this.lastMean = p.value;
    this.lastTs = p.ts;
    this.n++;
    // Only consecutive windows: across missing ones the change spans their wander too.
    const consecutive =
      interval !== undefined && this.intervals.length >= 4 && interval <= 1.5 * this.intervals.median();
    if (!consecutive || previous === null) {
      this.restart();
      this.settle = 0;
      return quiet(p.value);
    }
    const change = p.value - previous;
    const bin = this.binOf(p.ts);
    const excess = change - this.profile.expected(bin);
    const judged = this.n > this.warmup && this.profile.seen(bin) > 0 && this.scale > 0 && this.wander > 0;
    const step = this.scale > 0 && Math.abs(excess) > this.config.stepRatio * this.scale;
    const settling = this.settleBy(excess, step, interval);
    let ratio = 0;
    if (judged) {
      if (step) this.restart();
      else if (this.profile.peak(bin) <= this.config.systematicRatio * this.wander) {
        if (this.up === 0 && this.down === 0) {
          this.runFrom = previousTs;
          this.runMean = previous;
        }
        const z = excess / this.wander;
        const slack = this.config.slack + settling / this.wander;
        const cap = 2 * this.config.threshold;
        this.up = Math.min(cap, Math.max(0, this.up + z - slack));
        this.down = Math.min(cap, Math.max(0, this.down - z - slack));
        if (this.up === 0 && this.down === 0) this.runFrom = null;
      }
      ratio = Math.max(this.up, this.down) / this.config.threshold;
    }
    // A drift under way must not teach the series that drifting is usual, nor a step that steps are;
    // but what this time of the cycle does is learnt even when it alarmed: a room's first weekday
    // filling is news once, and its second is that hour's usual change, not news again.
    if (!step) this.learnCycle(change, p.ts, bin);
    if (ratio < 1 && !step) this.learn(excess);
    if (ratio < 1) return quiet(p.value);
    const moved = p.value - this.runMean;
    const minutes = this.runFrom === null ? 0 : Math.round((p.ts - this.runFrom) / 60_000);
    const surprise = this.config.alarmSurprise * ratio;
    return verdict(
      surprise / (surprise + this.config.alarmSurprise),
      p.value,
      `drifting ${moved >= 0 ? 'up' : 'down'} by ${fmt(Math.abs(moved))} to ${fmt(p.value)} over ${minutes} min, steadier than its usual wander (${fmt(this.wander)} per window)`,
      surprise,
    );
  }

  snapshot(): State {
    return {
      lastMean: this.lastMean,
      lastTs: this.lastTs,
      intervals: this.intervals.toArray(),
      ...this.profile.snapshot(),
      today: { ...this.today },
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

  /**
   * How much of the last steps' settling this window releases (as it fades: a step settling with a
   * time constant of an hour or less is mostly done in one); a step adds to them. The release widens
   * the slack both ways, so the sums stay unbiased while a level settles.
   */
  private settleBy(excess: number, step: boolean, interval: number): number {
    if (step) {
      // Only what lies beyond a step's size: a steep creep, its changes about a step each, does not settle.
      const beyond = excess - Math.sign(excess) * this.config.stepRatio * this.scale;
      this.settle = (Math.sign(excess) === Math.sign(this.settle) ? this.settle : 0) + beyond;
      return 0;
    }
    const release = Math.abs(this.settle) * (1 - Math.exp(-interval / SPAN_MS));
    this.settle -= Math.sign(this.settle) * release;
    return release;
  }

  private restart(): void {
    this.up = this.down = 0;
    this.runFrom = null;
  }

  private binOf(ts: number): number {
    const { periodMs, bins } = this.config;
    const phase = ((ts % periodMs) + periodMs) % periodMs;
    return Math.min(bins - 1, Math.floor((phase / periodMs) * bins));
  }

  /** The bin's change of today joins its expected change when the bin is over. */
  private learnCycle(change: number, ts: number, bin: number): void {
    const cycle = Math.floor(ts / this.config.periodMs);
    const t = this.today;
    if (t.count > 0 && (t.bin !== bin || t.cycle !== cycle)) {
      const p = this.profile;
      const days = p.seen(t.bin) + 1;
      const mean = t.sum / t.count;
      const e = p.expected(t.bin);
      p.set(
        t.bin,
        e + (mean - e) * Math.max(this.config.dayWeight, 1 / days),
        Math.max(Math.abs(mean), (1 - this.config.dayWeight) * p.peak(t.bin)),
        days,
      );
      t.sum = t.count = 0;
    }
    t.bin = bin;
    t.cycle = cycle;
    t.sum += change;
    t.count++;
  }

  private learn(excess: number): void {
    this.keep(excess);
    if (this.n % this.rescaleEvery === 0 && this.excessChunks.chunks >= 2) this.rescale();
  }

  /** Holds an excess; a span's worth closes the span into the summaries. */
  private keep(excess: number): void {
    this.excesses.push(excess);
    if (++this.fill < this.span) return;
    this.fill = 0;
    const ring = this.excesses;
    const SPAN = this.span;
    const h = ring.length;
    if (spanScratch.length < SPAN) spanScratch = new Float64Array(SPAN);
    const chunk = spanScratch;
    for (let i = 0; i < SPAN; i++) chunk[i] = ring.at(h - SPAN + i);
    this.excessChunks.close(chunk, SPAN);
    // The sums of `span` consecutive excesses ending in this span (from the second span on), each
    // clamped at a step's size: the last scale's, or before there is one this span's own.
    if (h < 2 * SPAN) return;
    const limit = this.config.stepRatio * (this.scale > 0 ? this.scale : robustSigma(chunk.subarray(0, SPAN)));
    // The span's excesses are summarised and its limit known: the same scratch takes the sums.
    const sums = spanScratch;
    for (let j = 0; j < SPAN; j++) {
      let sum = 0;
      for (let k = j + 1; k <= j + SPAN; k++) sum += clamp(ring.at(k), limit);
      sums[j] = sum;
    }
    this.sumChunks.close(sums, SPAN);
  }

  /**
   * The spread of one change beyond what was expected of it (to tell a step), and the long-run
   * wander: the spread of the sum of an hour's (SPAN_MS) such changes over its root. A random walk (the weather)
   * adds up, so its wander is about its change's spread; a level with noise on it does not (each
   * change undoes the last), so there it is floored at the noise of one window's mean.
   */
  private rescale(): void {
    this.scale = this.excessChunks.robustSigma();
    if (!(this.scale > 0) || this.sumChunks.chunks === 0) return;
    this.wander = Math.max(this.sumChunks.robustSigma() / Math.sqrt(this.span), this.scale / Math.SQRT2);
  }
}

/** Scratch of a closing span's excesses, then its sums (`keep`; the chunks copy what they summarise): no arrays a span. */
let spanScratch = new Float64Array(0);

const clamp = (x: number, limit: number): number => Math.max(-limit, Math.min(limit, x));

export const createDrift: DetectorFactory<DriftConfig> = (config, snapshot, context) =>
  new Drift(config, snapshot, context);
