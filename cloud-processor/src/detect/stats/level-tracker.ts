import { Slab } from './slab.js';

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

/**
 * The tracker's numbers, float64 slots of its region of the slab (a field each, and the state and
 * "before" objects, were a 16-byte heap number a field and ~600 bytes a tracker; `before` was a new
 * object every point). A time that is not set yet (null in a snapshot) is NaN.
 */
const FIRST_TS = 0;
const LAST_TS = 1;
const N = 2;
const CADENCE = 3;
const RECENT = 4;
const BASELINE = 5;
const SLOPE = 6;
const FROZEN_SINCE = 7;
/** The baseline and trend before the latest point moved them (not state: set by each `observe`). */
const BEFORE_BASELINE = 8;
const BEFORE_SLOPE = 9;
/** Time since the previous point and the latest value, as of the latest `observe` (not state). */
const DT = 10;
const X = 11;
/** The two averages' remembered decays: (dt, τ, 1 − e^(−dt/τ)) each (see `decay`). */
const RECENT_DECAY = 12;
const BASELINE_DECAY = 15;
const SLOTS = 18;

/**
 * 1 − e^(−dt/τ), remembered in f[at … at + 3) for the last (dt, τ) asked: a regular series asks the
 * same again and again.
 */
function decay(f: Float64Array, at: number, dt: number, tau: number): number {
  if (dt !== f[at] || tau !== f[at + 1]) {
    f[at] = dt;
    f[at + 1] = tau;
    f[at + 2] = 1 - Math.exp(-dt / tau);
  }
  return f[at + 2]!;
}

/** The weight of a new value in an average over `tau`, `dt` after the last, `age` into the series. */
const blend = (f: Float64Array, at: number, dt: number, tau: number, age: number): number =>
  dt > 0 ? Math.max(decay(f, at, dt, tau), age > 0 ? dt / age : 1) : 0;

const orNaN = (x: number | null): number => (x === null ? Number.NaN : x);
const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

export class LevelTracker {
  /** Region of the slab: SLOTS float64s. */
  private readonly region: number;

  constructor(
    private readonly recentMs: number,
    private readonly baselineMs: number,
    state?: LevelTrackerState,
    /** The owner's (one buffer for all of a series' arrays: slab.ts), else one of its own. */
    private readonly slab: Slab = new Slab(),
  ) {
    this.region = slab.alloc(SLOTS * 8);
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    f[o + FIRST_TS] = orNaN(state?.firstTs ?? null);
    f[o + LAST_TS] = orNaN(state?.lastTs ?? null);
    f[o + N] = state?.n ?? 0;
    f[o + CADENCE] = state?.cadence ?? 0;
    f[o + RECENT] = state?.recent ?? 0;
    f[o + BASELINE] = state?.baseline ?? 0;
    f[o + SLOPE] = state?.slope ?? 0;
    f[o + FROZEN_SINCE] = orNaN(state?.frozenSince ?? null);
    f[o + RECENT_DECAY] = f[o + RECENT_DECAY + 1] = Number.NaN;
    f[o + BASELINE_DECAY] = f[o + BASELINE_DECAY + 1] = Number.NaN;
  }

  /** The slab's float64 view and the index of this tracker's first slot in it (read afresh: regions move). */
  private get(slot: number): number {
    return this.slab.num(this.region, slot);
  }

  /** Points seen, the time since the first, and their usual spacing. */
  get n(): number {
    return this.get(N);
  }

  age(ts: number): number {
    const first = this.get(FIRST_TS);
    return Number.isNaN(first) ? 0 : ts - first;
  }

  get cadence(): number {
    return this.get(CADENCE);
  }

  get frozenSince(): number | null {
    return orNull(this.get(FROZEN_SINCE));
  }

  get recent(): number {
    return this.get(RECENT);
  }

  /** Time since the previous point, as of the latest `observe` (0 for the first point or a repeated time). */
  get sinceLast(): number {
    return this.get(DT);
  }

  /** Takes a point into the recent level; returns the residual against the baseline, which it has not moved yet. */
  observe(ts: number, x: number): number {
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    f[o + BEFORE_BASELINE] = f[o + BASELINE]!;
    f[o + BEFORE_SLOPE] = f[o + SLOPE]!;
    f[o + X] = x;
    if (Number.isNaN(f[o + FIRST_TS]!) || Number.isNaN(f[o + LAST_TS]!)) {
      f[o + FIRST_TS] = f[o + LAST_TS] = ts;
      f[o + RECENT] = f[o + BASELINE] = f[o + BEFORE_BASELINE] = x;
      f[o + N] = 1;
      f[o + DT] = 0;
      return 0;
    }
    const dt = (f[o + DT] = Math.max(0, ts - f[o + LAST_TS]!));
    if (dt > 0) {
      f[o + LAST_TS] = ts;
      f[o + CADENCE]! += (dt - f[o + CADENCE]!) / Math.min(f[o + N]!, CADENCE_SPAN);
    }
    f[o + N]!++;
    f[o + RECENT]! += blend(f, o + RECENT_DECAY, dt, this.recentMs, ts - f[o + FIRST_TS]!) * (x - f[o + RECENT]!);
    return f[o + RECENT]! - this.expected();
  }

  /** Moves the baseline and its trend towards the latest point, unless frozen. */
  follow(ts: number): void {
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    if (!Number.isNaN(f[o + FROZEN_SINCE]!) || Number.isNaN(f[o + FIRST_TS]!)) return;
    const age = ts - f[o + FIRST_TS]!;
    const dt = f[o + DT]!;
    const tau = Math.max(this.baselineMs, MIN_BASELINE_POINTS * f[o + CADENCE]!);
    const b = blend(f, o + BASELINE_DECAY, dt, tau, age);
    const moved = b * (f[o + X]! - f[o + BASELINE]!);
    f[o + BASELINE]! += moved;
    if (dt > 0 && age >= this.baselineMs) f[o + SLOPE]! += b * (moved / dt - f[o + SLOPE]!);
  }

  /**
   * Where the recent level should be if nothing changed: the baseline, plus its trend over the lag
   * of the two averages. While frozen, the level the series left, not carried on along its trend:
   * the trend at an alarm is partly the slide that raised it (the baseline follows a fault's first
   * seconds), and carried on for the minutes a fault lasts it brought the expected level to the
   * faulty one (a pump's flow while a valve stayed closed: the alert resolved mid-fault).
   */
  expected(): number {
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    return f[o + BASELINE]! + f[o + SLOPE]! * Math.max(0, this.baselineMs - this.recentMs);
  }

  /** Freezes the baseline at the level before the latest point (the level the series left). */
  freeze(ts: number): void {
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    if (!Number.isNaN(f[o + FROZEN_SINCE]!)) return;
    f[o + BASELINE] = f[o + BEFORE_BASELINE]!;
    f[o + SLOPE] = f[o + BEFORE_SLOPE]!;
    f[o + FROZEN_SINCE] = ts;
  }

  /**
   * Releases the baseline: back where it was (`return`), or (`accept`) restarting at the recent
   * level with the trend it kept while away (a sensor that keeps drifting is followed from here,
   * not judged again at once).
   */
  release(how: 'return' | 'accept', ts: number): void {
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    const frozenSince = f[o + FROZEN_SINCE]!;
    if (how === 'accept' && !Number.isNaN(frozenSince)) {
      const away = ts - frozenSince;
      const lag = Math.max(0, this.baselineMs - this.recentMs);
      const left = f[o + BASELINE]! + f[o + SLOPE]! * lag;
      f[o + SLOPE] = away > 0 ? (f[o + RECENT]! - left) / away : 0;
      f[o + BASELINE] = f[o + RECENT]! - f[o + SLOPE]! * lag;
    }
    // Frozen again at once, it is this level that is left.
    f[o + BEFORE_BASELINE] = f[o + BASELINE]!;
    f[o + BEFORE_SLOPE] = f[o + SLOPE]!;
    f[o + FROZEN_SINCE] = Number.NaN;
  }

  snapshot(): LevelTrackerState {
    const f = this.slab.f64;
    const o = this.slab.at(this.region) >> 3;
    return {
      firstTs: orNull(f[o + FIRST_TS]!),
      lastTs: orNull(f[o + LAST_TS]!),
      n: f[o + N]!,
      cadence: f[o + CADENCE]!,
      recent: f[o + RECENT]!,
      baseline: f[o + BASELINE]!,
      slope: f[o + SLOPE]!,
      frozenSince: orNull(f[o + FROZEN_SINCE]!),
    };
  }
}
