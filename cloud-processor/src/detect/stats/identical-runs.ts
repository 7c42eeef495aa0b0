import type { Slab } from './slab.js';
import { SortedWindow } from './sorted-window.js';

export interface IdenticalRunsState {
  run: number;
  runs: number[];
  rate: number;
  rateBeforeRun: number;
  /** Of older snapshots: absent is none. */
  longestHeld?: number;
}

/**
 * Runs of windows whose readings are all identical, and how long one must be to be a stuck sensor.
 * A sensor whose readings always vary is stuck at its first such window. One that rounds to steps
 * coarse beside its noise (a DS18B20's 0.0625 °C) has them in its normal life, in runs while the
 * level stays inside a step: for it, a run is stuck only when it would come by chance once in a
 * million windows at its rate of them, and is more than twice as long as its longest of late.
 */
export class IdenticalRuns {
  /** Identical windows in a row up to now. */
  run: number;
  /**
   * Recent runs that were the series' normal life; made at the first one (a series whose windows
   * always vary has none: its empty window was 90 bytes a series), read as empty until then.
   */
  private runs: SortedWindow | undefined;
  private readonly slab: Slab | undefined;
  /** Share of the recent windows that were identical, and that share when the current run began. */
  private rate: number;
  private rateBeforeRun: number;
  /**
   * The longest completed run over a memory of LONG_RUNS runs (days, where `runs` holds hours): the
   * flat stretch at a daily peak or trough, which hours of ordinary runs do not show.
   */
  private longestHeld: number;

  /** `slab`: the owner's (one buffer for all of a detector's arrays), else one of its own. */
  constructor(state?: Partial<IdenticalRunsState>, slab?: Slab) {
    this.run = state?.run ?? 0;
    this.slab = slab;
    if (state?.runs !== undefined && state.runs.length > 0)
      this.runs = new SortedWindow(RUNS_HELD, state.runs, 64, slab);
    this.rate = state?.rate ?? 0;
    this.rateBeforeRun = state?.rateBeforeRun ?? 0;
    this.longestHeld = state?.longestHeld ?? 0;
  }

  /**
   * The next window: identical or not, the rate's horizon in windows, and what makes a run stuck
   * (read only when a run ends: `endsRun` tells the caller when to work it out).
   */
  see(identical: boolean, horizon: number, stuckAfter: number): void {
    if (identical) {
      if (this.run++ === 0) this.rateBeforeRun = this.rate;
    } else if (this.run > 0) {
      // A run that ended before it was called stuck was the series' normal life; so was one that
      // was called stuck in a series whose windows are often identical, but not in one whose
      // readings always varied (there it was a fault, and must not become usual). The longest over
      // days learns only the former: a stuck stretch remembered for days would hide the next.
      const normal = this.run < stuckAfter;
      if (normal || this.rateBeforeRun >= COMMON)
        (this.runs ??= new SortedWindow(RUNS_HELD, undefined, 64, this.slab)).push(this.run);
      if (normal) this.longestHeld = Math.max(this.run, this.longestHeld * (1 - 1 / LONG_RUNS));
      this.run = 0;
    }
    this.rate += ((identical ? 1 : 0) - this.rate) / horizon;
  }

  /** Whether a window so (identical or not) ends a run: what `see` then needs to know what makes a run stuck. */
  endsRun(identical: boolean): boolean {
    return !identical && this.run > 0;
  }

  /**
   * Identical windows in a row that make a stuck sensor: at least `minimum`; as many as come by
   * chance once in STUCK_CHANCE windows at the rate seen before this run, or at `chance` (what the
   * sensor's step and noise give a window), whichever is higher; and more than twice the longest
   * recent run (they are not independent: a level that stays put repeats for as long as it does).
   */
  stuckAfter(minimum: number, chance: number): number {
    const f = Math.min(Math.max(this.rateBeforeRun, chance), 0.99);
    const byChance = f > 0 ? Math.ceil(Math.log(STUCK_CHANCE) / Math.log(f)) : 0;
    const longest = this.longest();
    return Math.max(minimum, byChance, longest === undefined ? 0 : 2 * longest + 1);
  }

  /**
   * For windows of few readings, where a repeat is the only evidence and a coarse sensor's level
   * repeats for as long as it stays inside a step: identical windows in a row that come by chance
   * once in STUCK_CHANCE windows by the tail of the series' own runs (a geometric tail through their
   * 90th percentile and longest: past a threshold, a memoryless run's excess is geometric), and more
   * than twice the longest run over days (a daily peak's flat stretch is longer than the day's).
   */
  stuckAfterRepeats(minimum: number, chance: number): number {
    const base = this.stuckAfter(minimum, chance);
    const runs = this.runs;
    if (runs === undefined || runs.length === 0 || this.rateBeforeRun < COMMON) return base;
    const n = runs.length;
    const upper = runs.quantile(0.9);
    const longest = runs.quantile(1);
    // Runs starting per window: the share of identical windows over a typical run.
    const starts = this.rateBeforeRun / Math.max(1, runs.median());
    // The tail's decay per window, from one run in ten reaching `upper` to one in n reaching `longest`.
    const decay = longest > upper ? Math.log(0.1 * n) / (longest - upper) : Number.POSITIVE_INFINITY;
    const tail = Math.ceil(longest + Math.max(0, Math.log(starts / (n * STUCK_CHANCE))) / decay);
    return Math.max(base, tail, 2 * Math.round(this.longestHeld) + 1);
  }

  longest(): number | undefined {
    return this.runs !== undefined && this.runs.length > 0 ? this.runs.quantile(1) : undefined;
  }

  snapshot(): IdenticalRunsState {
    return {
      run: this.run,
      runs: this.runs?.toArray() ?? [],
      rate: this.rate,
      rateBeforeRun: this.rateBeforeRun,
      longestHeld: this.longestHeld,
    };
  }
}

/** Runs remembered: about a day of them for a sensor whose windows are identical half the time, weeks where they are rare. */
const RUNS_HELD = 64;

/** Runs the longest run is remembered over (it fades by 1/1024 at each run that ends uncalled: halves in about 710): days of a coarse sensor's. */
const LONG_RUNS = 1024;

/** A share of identical windows at which they are part of a series' normal life (1 in 100). */
const COMMON = 0.01;

/** How rare a run must be, at the series' rate of identical windows, to be a stuck sensor. */
const STUCK_CHANCE = 1e-6;
