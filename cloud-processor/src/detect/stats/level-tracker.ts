/**
 * Where a series is now and where it was: a recent level (an average over `recentMs`) and a slower
 * baseline (over `baselineMs`, at least MIN_BASELINE_POINTS of the series' points) with its trend.
 * The residual is how far the recent level lies from where the baseline and its trend say it should
 * be. The baseline can be frozen (the level a series left when it alarmed) and released. Averages
 * are time-based, so the same durations mean the same on a 1-second sensor and on windows; a plain
 * average of everything so far while the series is younger than an average's span (an average
 * seeded with the first value alone would lag it for minutes).
 */
export interface LevelTrackerState {
  firstTs: number | null;
  lastTs: number | null;
  n: number;
  /** The usual spacing of points (ms). */
  cadence: number;
  recent: number;
  baseline: number;
  /** The baseline's trend per ms (a level drifting steadily, as water warming in a tank). */
  slope: number;
  /** Since when the baseline is frozen, or null. */
  frozenSince: number | null;
}

/** Points over which the usual spacing is averaged. */
const CADENCE_SPAN = 100;
/** A baseline averages at least this many points (on a slow series, `baselineMs` may hold one). */
const MIN_BASELINE_POINTS = 8;

/** 1 − e^(−dt/τ), remembered for the last (dt, τ) asked: a regular series asks the same again and again. */
class Decay {
  private dt = Number.NaN;
  private tau = Number.NaN;
  private value = 0;

  of(dt: number, tau: number): number {
    if (dt !== this.dt || tau !== this.tau) {
      this.dt = dt;
      this.tau = tau;
      this.value = 1 - Math.exp(-dt / tau);
    }
    return this.value;
  }
}

/** The weight of a new value in an average over `tau`, `dt` after the last, `age` into the series. */
const blend = (decay: Decay, dt: number, tau: number, age: number): number =>
  dt > 0 ? Math.max(decay.of(dt, tau), age > 0 ? dt / age : 1) : 0;

export class LevelTracker {
  private readonly s: LevelTrackerState;
  /** The baseline and trend before the latest point moved them (not state: set by each `observe`). */
  private before = { baseline: 0, slope: 0 };
  private dt = 0;
  private x = 0;
  private readonly recentDecay = new Decay();
  private readonly baselineDecay = new Decay();

  constructor(
    private readonly recentMs: number,
    private readonly baselineMs: number,
    state?: LevelTrackerState,
  ) {
    this.s = state
      ? { ...state }
      : { firstTs: null, lastTs: null, n: 0, cadence: 0, recent: 0, baseline: 0, slope: 0, frozenSince: null };
  }

  /** Points seen, the time since the first, and their usual spacing. */
  get n(): number {
    return this.s.n;
  }

  age(ts: number): number {
    return this.s.firstTs === null ? 0 : ts - this.s.firstTs;
  }

  get cadence(): number {
    return this.s.cadence;
  }

  get frozenSince(): number | null {
    return this.s.frozenSince;
  }

  get recent(): number {
    return this.s.recent;
  }

  /** Time since the previous point, as of the latest `observe` (0 for the first point or a repeated time). */
  get sinceLast(): number {
    return this.dt;
  }

  /** Takes a point into the recent level; returns the residual against the baseline, which it has not moved yet. */
  observe(ts: number, x: number): number {
    const s = this.s;
    this.before = { baseline: s.baseline, slope: s.slope };
    this.x = x;
    if (s.firstTs === null || s.lastTs === null) {
      s.firstTs = s.lastTs = ts;
      s.recent = s.baseline = this.before.baseline = x;
      s.n = 1;
      this.dt = 0;
      return 0;
    }
    this.dt = Math.max(0, ts - s.lastTs);
    if (this.dt > 0) {
      s.lastTs = ts;
      s.cadence += (this.dt - s.cadence) / Math.min(s.n, CADENCE_SPAN);
    }
    s.n++;
    s.recent += blend(this.recentDecay, this.dt, this.recentMs, ts - s.firstTs) * (x - s.recent);
    return s.recent - this.expected();
  }

  /** Moves the baseline and its trend towards the latest point, unless frozen. */
  follow(ts: number): void {
    const s = this.s;
    if (s.frozenSince !== null || s.firstTs === null) return;
    const age = ts - s.firstTs;
    const tau = Math.max(this.baselineMs, MIN_BASELINE_POINTS * s.cadence);
    const b = blend(this.baselineDecay, this.dt, tau, age);
    const moved = b * (this.x - s.baseline);
    s.baseline += moved;
    if (this.dt > 0 && age >= this.baselineMs) s.slope += b * (moved / this.dt - s.slope);
  }

  /**
   * Where the recent level should be if nothing changed: the baseline, plus its trend over the lag
   * of the two averages. While frozen, the level the series left, not carried on along its trend:
   * the trend at an alarm is partly the slide that raised it (the baseline follows a fault's first
   * seconds), and carried on for the minutes a fault lasts it brought the expected level to the
   * faulty one (a pump's flow while a valve stayed closed: the alert resolved mid-fault).
   */
  expected(): number {
    const s = this.s;
    return s.baseline + s.slope * Math.max(0, this.baselineMs - this.recentMs);
  }

  /** Freezes the baseline at the level before the latest point (the level the series left). */
  freeze(ts: number): void {
    const s = this.s;
    if (s.frozenSince !== null) return;
    s.baseline = this.before.baseline;
    s.slope = this.before.slope;
    s.frozenSince = ts;
  }

  /**
   * Releases the baseline: back where it was (`return`), or (`accept`) restarting at the recent
   * level with the trend it kept while away (a sensor that keeps drifting is followed from here,
   * not judged again at once).
   */
  release(how: 'return' | 'accept', ts: number): void {
    const s = this.s;
    if (how === 'accept' && s.frozenSince !== null) {
      const away = ts - s.frozenSince;
      const left = s.baseline + s.slope * Math.max(0, this.baselineMs - this.recentMs);
      s.slope = away > 0 ? (s.recent - left) / away : 0;
      s.baseline = s.recent - s.slope * Math.max(0, this.baselineMs - this.recentMs);
    }
    // Frozen again at once, it is this level that is left.
    this.before = { baseline: s.baseline, slope: s.slope };
    s.frozenSince = null;
  }

  snapshot(): LevelTrackerState {
    return { ...this.s };
  }
}
