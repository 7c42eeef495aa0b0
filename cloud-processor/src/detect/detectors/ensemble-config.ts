import { z } from 'zod';
import { CalibrationConfig } from '../stats/tail-calibrator.js';
import { DriftConfig } from './drift.js';
import { EwmaConfig } from './ewma.js';
import { FlatlineConfig } from './flatline.js';
import { MissingConfig } from './missing.js';
import { NoveltyConfig } from './novelty.js';
import { RateOfChangeConfig } from './rate-of-change.js';
import { RobustZScoreConfig } from './robust-zscore.js';
import { SeasonalConfig } from './seasonal.js';
import { ShiftConfig } from './shift.js';
import { StaticThresholdConfig } from './static-threshold.js';
import { VolatilityConfig } from './volatility.js';
import { WindowRulesConfig } from './window-rules.js';

// The ensemble's settings (ensemble.ts): its own, and each member's where it differs from the standalone detector's.

/** A member's config, or `false` to leave it out; `on` says whether it is in by default. */
const member = <T extends z.ZodType>(schema: T, on: 'on' | 'off' = 'on') =>
  z.union([z.literal(false), schema]).prefault((on === 'on' ? {} : false) as never);

const WEEK_MS = 7 * 86_400_000;

/** The members' own defaults where they differ from the standalone detector's. */
const DailyConfig = SeasonalConfig.extend({ maxBins: SeasonalConfig.shape.maxBins.default(288) });
/**
 * The weekly member's hour-long bins take 12 points of 5-minute windows each and learn per point,
 * as before `learning` was a setting: per cycle there cost NAB 0.44 points cross-validated (LOCO
 * 76.13 -> 75.69; the member judges only NAB's longer files, from their fourth week).
 */
const WeeklyConfig = SeasonalConfig.extend({
  periodMs: SeasonalConfig.shape.periodMs.default(WEEK_MS),
  maxBins: SeasonalConfig.shape.maxBins.default(168),
  learning: SeasonalConfig.shape.learning.default('per-point'),
});
/** Silence is the clock's business (`tick`); the point that ends it is not itself anomalous. */
const EnsembleMissingConfig = MissingConfig.extend({ reportOn: MissingConfig.shape.reportOn.default('tick') });

/**
 * Calibration keys applied over every member's own. Only the keys a config gives, and the warm-up
 * and ramp, override a member's (`partial()` would fill the rest with the defaults and undo, say,
 * volatility's steeper tail). The warm-up is a day (and at least 24 of any series' points) before a
 * member's calibration speaks: the time scale on which most series vary. A calibration that has
 * seen only the night takes the day's usual strays for rare (a series five times noisier by day
 * alarmed on its first morning with two hours); with a day: NAB leave-one-category-out 75.14 /
 * 66.88 / 80.01 -> 75.28 / 67.16 / 80.10, false alarms on unseen shapes 1.32 -> 1.20 per 1,000
 * points, SKAB and the fleet unchanged (its members wait two cycles anyway). Two days cost NAB
 * 4.4 points (anomalies in a file's second day). Not the missing member's: its calibration learns
 * only from points that arrive, so a series that fell silent on its first day (a sensor that died)
 * would never have learnt enough to be reported; silence keeps that member's own two hours.
 */
export const VALUE_WARMUP_MS = 86_400_000;
const CalibrationOverride = z.object({
  /** Unset: a day for the members that judge values (VALUE_WARMUP_MS), the missing member's own for silence. */
  warmupMs: CalibrationConfig.shape.warmupMs.unwrap().optional(),
  halfLifeMs: CalibrationConfig.shape.halfLifeMs.unwrap().optional(),
  tailIndex: CalibrationConfig.shape.tailIndex.unwrap().optional(),
  rampMs: CalibrationConfig.shape.rampMs.unwrap().default(7_200_000),
  alarmSurprise: CalibrationConfig.shape.alarmSurprise.unwrap().optional(),
});

/**
 * The novelty member remembers 128 shapes (10 hours of 5-minute windows) instead of the standalone
 * detector's 512: it keeps a series' state small for fleets of many thousands of series.
 */
const EnsembleNoveltyConfig = NoveltyConfig.extend({ memorySize: NoveltyConfig.shape.memorySize.default(128) });
/** The level member judges a window's mean; its readings' excursions are the window rules' (one test, not two). */
const EnsembleLevelConfig = RobustZScoreConfig.extend({
  excursions: RobustZScoreConfig.shape.excursions.default('off'),
});

/**
 * The ensemble's defaults are the processor's (an empty `detection` config): every benchmark
 * scores what users run.
 */
export const EnsembleConfig = z.object({
  /**
   * Surprise at which the ensemble's score is 0.5: an alarm, and an alert at sensitivity 1. One in
   * about 300 of a series' points for one member; the most surprised of about ten members (each
   * calibrated on its own, each conservative on light tails) reaches it far less often. Fitted
   * where NAB's best threshold lies when each category is held out (see the README's figures).
   */
  alarmSurprise: z.number().positive().default(2.5),
  /**
   * Raw rows that come faster than every half of this are gathered into windows of this length
   * (aligned as the agent aligns its own) and judged once a window; the shift member still sees
   * every row. 60 s is the agent's default window.
   */
  rawWindowMs: z.number().int().min(0).default(60_000),
  /**
   * Event time after an alarm, and after the last point since still away from the level it left,
   * during which it is not reported again… (2 hours: 24 of the 5-minute windows NAB was fitted on).
   * A later point at half the alarm or more runs the period on too, and a point that has not
   * returned to normal (a quarter of the alarm, one in four for one member) up to twice the run-on
   * past the event's last point at half the alarm: heavy-tailed noise that keeps straying crosses
   * the alarm again as part of the same unrest. Such points are chance's, each point one more try,
   * so the run-on from them is this period but at most `refractoryPoints` of the series' windows
   * (24 minutes of minute windows): the period was fitted as 24 windows of 5 minutes, and 2 hours of
   * minute windows give chance five times the tries (there about 3 % of a healthy series' points
   * reach half the alarm, and the period never ended). On a noisy series of 5-minute windows about
   * half the points reach a quarter of the alarm, so there it acts as a period of twice this from
   * the last point at half the alarm (runs of those can carry it on for a day)…
   */
  refractoryMs: z.number().int().min(0).default(7_200_000),
  /**
   * …and at least this many points (a series of a point an hour spans a day: NAB's events span
   * points, whatever their spacing); a later point runs the period on for at most this many of the
   * series' windows (0: no such bound)…
   */
  refractoryPoints: z.number().int().min(0).default(24),
  /** …unless it becomes this much more surprising (log10 units: 1 = ten times rarer); the score's step above the alarm. */
  refractoryMargin: z.number().min(0).default(1),
  /**
   * Calibration keys applied to every member over its own (for example a shorter warm-up for
   * sensor windows, where a day is only 288 points).
   */
  calibration: CalibrationOverride.prefault({}),
  /** Multiplies each member's surprise; merged over DEFAULT_WEIGHTS. */
  weights: z.record(z.string(), z.number().min(0)).default({}),
  level: member(EnsembleLevelConfig),
  ewma: member(EwmaConfig),
  /** A level that moves and stays (averaged over time: fast and coarsely quantised sensors), held while it stays away. */
  shift: member(ShiftConfig),
  daily: member(DailyConfig),
  weekly: member(WeeklyConfig),
  novelty: member(EnsembleNoveltyConfig),
  /**
   * Off by default: at half weight (steps are common in healthy series) it never decided a verdict
   * on NAB, SKAB or the simulated fleet, and at full weight it cost 11 NAB points; the level and
   * window rules judge steps.
   */
  rate: member(RateOfChangeConfig, 'off'),
  flatline: member(FlatlineConfig),
  missing: member(EnsembleMissingConfig),
  /**
   * Off by default: the window rules judge a window's spread against the noise of the level it is
   * at, which a machine switching on and off needs.
   */
  volatility: member(VolatilityConfig, 'off'),
  /** Plain rules for window aggregates (spikes, steps, bursts, stuck, dropouts); silent on raw rows. */
  shape: member(WindowRulesConfig),
  /** Slow steady drift of a window mean beyond the series' usual wander; silent on raw rows. */
  drift: member(DriftConfig),
  /** Configured limits; off unless given. */
  limits: member(StaticThresholdConfig, 'off'),
});
export type EnsembleConfig = z.output<typeof EnsembleConfig>;
export type EnsembleConfigInput = z.input<typeof EnsembleConfig>;
