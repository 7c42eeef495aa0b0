import { z } from 'zod';
import { DelayedCalibrator, type DelayedCalibratorState } from '../stats/delayed-calibrator.js';
import {
  formatValue as fmt,
  quiet,
  scoreFromSurprise,
  verdict,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { LevelTracker, type LevelTrackerState } from '../stats/level-tracker.js';
import { CalibrationConfig, MIN_SAMPLE } from '../stats/tail-calibrator.js';

/**
 * How a level member calibrates its distances: the deviations are observations of a recent span
 * each (DelayedCalibrator), so its warm-up is a number of them (a sample size); the time a series
 * must have been seen is LevelConfig's `warmupMs`.
 */
export const LevelCalibration = z.object({
  /** Observations (recent spans) learnt before a distance is judged. */
  observations: z.number().int().min(1).default(MIN_SAMPLE),
  halfLifeMs: CalibrationConfig.shape.halfLifeMs,
  tailIndex: CalibrationConfig.shape.tailIndex,
  alarmSurprise: CalibrationConfig.shape.alarmSurprise,
});
export type LevelCalibration = z.output<typeof LevelCalibration>;

/** How a level is tracked and held; shared by `shift` (one series) and `machine` (a device's series together). */
export const LevelConfig = z.object({
  /** The recent level: an average of the readings over about this long (at least the latest point). */
  recentMs: z.number().positive().default(10_000),
  /** The baseline it is compared with: an average over about this long (and at least 8 points), frozen while the series is away from it. */
  baselineMs: z.number().positive().default(120_000),
  /** History a series needs (and `calibration.observations` of its distances learnt) before a shift is judged. */
  warmupMs: z.number().min(0).default(300_000),
  /**
   * How long a series may stay away from the level it left before the new level is accepted as
   * normal (the alert then resolves, and the baseline restarts from there).
   */
  acceptAfterMs: z.number().positive().default(600_000),
  calibration: LevelCalibration.prefault({}),
});
export const ShiftConfig = LevelConfig;
export type ShiftConfig = z.output<typeof ShiftConfig>;

/** Recent spans a distance waits before it is learnt (a fault's level slides away within about this long). */
export const LEARN_DELAY = 3;

interface State {
  level: LevelTrackerState;
  distances: DelayedCalibratorState;
  /** The largest hold of the current time away (absent in older snapshots). */
  peak?: number;
}

/**
 * Level shift that persists. The recent level (an average over `recentMs`, which on a fast sensor
 * averages away its noise and, on a coarsely quantised one, its steps: a flow meter reading whole
 * litres shows a 30 % drop as a clear move of the average, not as one more one-unit step) is
 * compared with a slower baseline and its trend (LevelTracker); the distance is calibrated against
 * the distances this series showed before (DelayedCalibrator). A surprising distance is news once:
 * the baseline is then frozen (the level the series left) and the point says so in `hold` for as
 * long as the series stays away from it, which holds the alert open. It returns when the distance
 * falls to half the alarm, or the new level is accepted after `acceptAfterMs`. Only a series with
 * several readings per recent span is judged (on a slower one each point is its own average,
 * which the other members judge); any series is held when the ensemble alarms (`alarmed`).
 */
class Shift implements Detector {
  private readonly level: LevelTracker;
  private readonly distances: DelayedCalibrator;
  private peak: number;

  constructor(
    private readonly config: ShiftConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    this.peak = s?.peak ?? 0;
    this.level = new LevelTracker(config.recentMs, config.baselineMs, s?.level, context?.slab);
    const c = config.calibration;
    this.distances = new DelayedCalibrator(
      c.halfLifeMs,
      c.tailIndex,
      config.recentMs,
      LEARN_DELAY * config.recentMs,
      s?.distances,
      context?.slab,
    );
  }

  update(point: SeriesPoint): Verdict {
    const x = point.value;
    const t = point.ts;
    const level = this.level;
    const distance = Math.abs(level.observe(t, x));
    if (level.n === 1) return quiet(x, 'warming up');
    const alarm = this.config.calibration.alarmSurprise;
    const since = level.frozenSince;
    if (since !== null) {
      const hold = this.distances.surprise(distance);
      if (hold >= alarm / 2 && t - since < this.config.acceptAfterMs) {
        // Further away than ever since it left is news (a valve closing further; an alert opened
        // at a lower sensitivity); staying away is not.
        const news = hold > this.peak ? hold : 0;
        this.peak = Math.max(this.peak, hold);
        return verdict(scoreFromSurprise(news, alarm), x, this.words(x, t), news, hold);
      }
      // Back at the level it left, or the new level is accepted: learn again from here.
      level.release(hold >= alarm / 2 ? 'accept' : 'return', t);
    }
    const fast = level.cadence > 0 && 2 * level.cadence <= this.config.recentMs;
    const surprise = fast && this.warm(t) ? this.distances.surprise(distance) : 0;
    // Learnt from when the baseline spans its own time (before, it is the average of the first few readings).
    if (level.age(t) >= this.config.baselineMs) this.distances.queue(t, distance, level.sinceLast);
    if (surprise >= alarm) {
      this.leave(t);
      return verdict(scoreFromSurprise(surprise, alarm), x, this.words(x, t), surprise, surprise);
    }
    level.follow(t);
    return verdict(scoreFromSurprise(surprise, alarm), x, 'normal', surprise);
  }

  /**
   * The ensemble alarmed on the latest point (by any member): from now on, the series is held to
   * the level it was at before that point, for as long as it stays away from it.
   */
  alarmed(ts: number): void {
    if (this.level.frozenSince === null && this.warm(ts)) this.leave(ts);
  }

  private warm(ts: number): boolean {
    return (
      this.level.age(ts) >= this.config.warmupMs && this.distances.observations >= this.config.calibration.observations
    );
  }

  private leave(ts: number): void {
    this.peak = 0;
    this.level.freeze(ts);
    this.distances.forget();
  }

  private words(x: number, ts: number): string {
    const since = this.level.frozenSince;
    const minutes = since === null ? 0 : Math.round((ts - since) / 60_000);
    const expected = this.level.expected();
    const recent = this.level.recent;
    return `level ${recent > expected ? 'up' : 'down'} at ${fmt(recent)} from ${fmt(expected)}${minutes > 0 ? ` for ${minutes} min` : ''} (now ${fmt(x)})`;
  }

  snapshot(): State {
    return { level: this.level.snapshot(), distances: this.distances.snapshot(), peak: this.peak };
  }
}

export const createShift: DetectorFactory<ShiftConfig> = (config, snapshot, context) =>
  new Shift(config, snapshot, context);
