import { z } from 'zod';
import {
  formatValue as fmt,
  quiet,
  verdict,
  type Detector,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { robustSigma } from '../stats/quantile-chunks.js';
import { DriftState, SPAN_MS, TODAY_BIN, TODAY_COUNT, TODAY_CYCLE, TODAY_SUM } from './drift-state.js';

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
class Drift extends DriftState implements Detector {
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
    const count = this.get(TODAY_COUNT);
    const was = this.get(TODAY_BIN);
    if (count > 0 && (was !== bin || this.get(TODAY_CYCLE) !== cycle)) {
      const p = this.profile;
      const days = p.seen(was) + 1;
      const mean = this.get(TODAY_SUM) / count;
      const e = p.expected(was);
      p.set(
        was,
        e + (mean - e) * Math.max(this.config.dayWeight, 1 / days),
        Math.max(Math.abs(mean), (1 - this.config.dayWeight) * p.peak(was)),
        days,
      );
      this.set(TODAY_SUM, 0);
      this.set(TODAY_COUNT, 0);
    }
    this.set(TODAY_BIN, bin);
    this.set(TODAY_CYCLE, cycle);
    this.set(TODAY_SUM, this.get(TODAY_SUM) + change);
    this.set(TODAY_COUNT, this.get(TODAY_COUNT) + 1);
  }

  private learn(excess: number): void {
    this.keep(excess);
    if (this.n % this.rescaleEvery === 0 && this.excessChunks.chunks >= 2) this.rescale();
  }

  /** Holds an excess; a span's worth closes the span into the summaries. */
  protected keep(excess: number): void {
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
