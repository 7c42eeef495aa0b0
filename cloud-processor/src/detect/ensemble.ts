import { z } from 'zod';
import { quiet, scoreFromSurprise, type Detector, type DetectorFactory, type SeriesPoint, type Verdict } from './detector.js';
import { createDrift, DriftConfig } from './drift.js';
import { createEwma, EwmaConfig } from './ewma.js';
import { createFlatline, FlatlineConfig } from './flatline.js';
import { createMissing, MissingConfig } from './missing.js';
import { createNovelty, NoveltyConfig } from './novelty.js';
import { createRateOfChange, RateOfChangeConfig } from './rate-of-change.js';
import { createRobustZScore, RobustZScoreConfig } from './robust-zscore.js';
import { createSeasonal, SeasonalConfig } from './seasonal.js';
import { createStaticThreshold, StaticThresholdConfig } from './static-threshold.js';
import { CalibrationConfig } from './tail-calibrator.js';
import { createVolatility, VolatilityConfig } from './volatility.js';
import { createWindowRules, WindowRulesConfig } from './window-rules.js';

/** A member's config, or `false` to leave it out; `on` says whether it is in by default. */
const member = <T extends z.ZodType>(schema: T, on: 'on' | 'off' = 'on') => z.union([z.literal(false), schema]).prefault((on === 'on' ? {} : false) as never);

const WEEK_MS = 7 * 86_400_000;

/** The members' own defaults where they differ from the standalone detector's. */
const DailyConfig = SeasonalConfig.extend({ maxBins: SeasonalConfig.shape.maxBins.default(288) });
const WeeklyConfig = SeasonalConfig.extend({ periodMs: SeasonalConfig.shape.periodMs.default(WEEK_MS), maxBins: SeasonalConfig.shape.maxBins.default(168) });
/** Silence is the clock's business (`tick`); the point that ends it is not itself anomalous. */
const EnsembleMissingConfig = MissingConfig.extend({ reportOn: MissingConfig.shape.reportOn.default('tick') });

/**
 * Calibration keys without their defaults: only the keys a config gives may override a member's
 * own (`partial()` would fill the missing ones with the defaults and undo, say, volatility's
 * steeper tail).
 */
const CalibrationOverride = z.object({
  warmupPoints: CalibrationConfig.shape.warmupPoints.unwrap().optional(),
  halfLifePoints: CalibrationConfig.shape.halfLifePoints.unwrap().optional(),
  tailIndex: CalibrationConfig.shape.tailIndex.unwrap().optional(),
  rampPoints: CalibrationConfig.shape.rampPoints.unwrap().optional(),
  alarmSurprise: CalibrationConfig.shape.alarmSurprise.unwrap().optional(),
});

export const EnsembleConfig = z.object({
  /** Surprise at which the ensemble's score is 0.5 (an alarm at the configured sensitivity). */
  alarmSurprise: z.number().positive().default(4),
  /** Surprise from which a point opens a refractory period. */
  refractorySurprise: z.number().positive().default(2.5),
  /** Points after such a point during which the same event is not reported again… */
  refractoryPoints: z.number().int().min(0).default(100),
  /** …unless it becomes this much more surprising (log10 units: 1 = ten times rarer). */
  refractoryMargin: z.number().min(0).default(1),
  /**
   * Calibration keys applied to every member over its own (for example a shorter warm-up for
   * sensor windows, where a day is only 288 points).
   */
  calibration: CalibrationOverride.default({}),
  /** Multiplies each member's surprise; merged over DEFAULT_WEIGHTS. */
  weights: z.record(z.string(), z.number().min(0)).default({}),
  level: member(RobustZScoreConfig),
  ewma: member(EwmaConfig),
  daily: member(DailyConfig),
  weekly: member(WeeklyConfig),
  novelty: member(NoveltyConfig),
  rate: member(RateOfChangeConfig),
  flatline: member(FlatlineConfig),
  missing: member(EnsembleMissingConfig),
  volatility: member(VolatilityConfig),
  /** Plain rules for window aggregates (spikes, steps, bursts, stuck, dropouts); silent on raw rows. */
  shape: member(WindowRulesConfig),
  /** Slow steady drift of a window mean beyond the series' usual wander; silent on raw rows. */
  drift: member(DriftConfig),
  /** Configured limits; off unless given. */
  limits: member(StaticThresholdConfig, 'off'),
});
export type EnsembleConfig = z.output<typeof EnsembleConfig>;
export type EnsembleConfigInput = z.input<typeof EnsembleConfig>;

/** The members, in the order their verdicts are read (the first of equal surprises names the reason). */
const MEMBERS = {
  shape: (c: WindowRulesConfig, s?: unknown) => createWindowRules(c, s),
  drift: (c: DriftConfig, s?: unknown) => createDrift(c, s),
  limits: (c: StaticThresholdConfig, s?: unknown) => createStaticThreshold(c, s),
  flatline: (c: FlatlineConfig, s?: unknown) => createFlatline(c, s),
  missing: (c: MissingConfig, s?: unknown) => createMissing(c, s),
  level: (c: RobustZScoreConfig, s?: unknown) => createRobustZScore(c, s),
  ewma: (c: EwmaConfig, s?: unknown) => createEwma(c, s),
  rate: (c: RateOfChangeConfig, s?: unknown) => createRateOfChange(c, s),
  volatility: (c: VolatilityConfig, s?: unknown) => createVolatility(c, s),
  daily: (c: SeasonalConfig, s?: unknown) => createSeasonal(c, s),
  weekly: (c: SeasonalConfig, s?: unknown) => createSeasonal(c, s),
  novelty: (c: NoveltyConfig, s?: unknown) => createNovelty(c, s),
} as const;
type MemberName = keyof typeof MEMBERS;

/** How a member is named in a verdict's reason ("daily cycle: above the usual …"). */
const LABELS: Record<MemberName, string> = {
  shape: 'sensor fault',
  drift: 'drift',
  limits: 'limit',
  flatline: 'stuck sensor',
  missing: 'dropout',
  level: 'outlier',
  ewma: 'level change',
  rate: 'sudden step',
  volatility: 'noise burst',
  daily: 'daily cycle',
  weekly: 'weekly cycle',
  novelty: 'new pattern',
};

/**
 * Members whose surprise counts for less by default. Runs of equal values and single large steps
 * are common in healthy integer-valued or idle series (a key logger at 0, a speed sensor at its
 * speed limit); they stand for a fault only when far longer or larger than the series has shown,
 * so half their surprise is taken. Everything else counts at 1.
 */
const DEFAULT_WEIGHTS: Partial<Record<MemberName, number>> = { flatline: 0.5, rate: 0.5 };

interface Member {
  readonly name: MemberName;
  readonly detector: Detector;
  readonly weight: number;
}

interface State {
  members: Partial<Record<MemberName, unknown>>;
  n: number;
  quietUntil: number;
  quietLevel: number;
}

/**
 * The default detector: every member judges the point, each in its own calibrated surprise
 * (−log10 of how rare the point is for this series by that member's measure), and the most
 * surprised member speaks for the ensemble. Calibration is what lets one threshold serve every
 * series and lets unlike members be compared at all.
 *
 * One event makes several consecutive points surprising; reporting each would be one alarm
 * repeated. So a point at `refractorySurprise` or above opens a refractory period of
 * `refractoryPoints`, during which points are reported as 0 unless they are `refractoryMargin`
 * more surprising than the one that opened it (which then opens a new period). The period is
 * counted in points, not time, and never depends on the series' length.
 */
class Ensemble implements Detector {
  private readonly members: Member[] = [];
  private n: number;
  private quietUntil: number;
  private quietLevel: number;

  constructor(private readonly config: EnsembleConfig, snapshot?: unknown) {
    const s = snapshot as State | undefined;
    for (const name of Object.keys(MEMBERS) as MemberName[]) {
      const own = config[name];
      if (own === false) continue;
      const c = 'calibration' in own ? { ...own, calibration: { ...own.calibration, ...config.calibration } } : own;
      const create = MEMBERS[name] as (c: unknown, s?: unknown) => Detector;
      this.members.push({ name, detector: create(c, s?.members[name]), weight: config.weights[name] ?? DEFAULT_WEIGHTS[name] ?? 1 });
    }
    this.n = s?.n ?? 0;
    this.quietUntil = s?.quietUntil ?? 0;
    this.quietLevel = s?.quietLevel ?? 0;
  }

  update(point: SeriesPoint): Verdict {
    // Ingest validates values; should a non-finite one get through, it must not poison the state.
    if (!Number.isFinite(point.value) || !Number.isFinite(point.ts)) return { score: 0, value: point.value, surprise: 0, reason: 'not a finite value: ignored' };
    let best = 0;
    let why: Verdict | undefined;
    let who = '';
    let second = 0;
    let also = '';
    for (const m of this.members) {
      const v = m.detector.update(point);
      const s = (v.surprise ?? 0) * m.weight;
      if (s > best) {
        if (why) { second = best; also = `${who}: ${why.reason}`; }
        best = s; why = v; who = LABELS[m.name];
      } else if (s > second) { second = s; also = `${LABELS[m.name]}: ${v.reason}`; }
    }
    const i = this.n++;
    let s = best;
    if (i < this.quietUntil && s <= this.quietLevel + this.config.refractoryMargin) {
      s = 0;
    } else if (s >= this.config.refractorySurprise) {
      this.quietUntil = i + 1 + this.config.refractoryPoints;
      this.quietLevel = s;
    }
    if (s === 0 || !why) {
      return best > 0 && why ? { score: 0, level: scoreFromSurprise(best, this.config.alarmSurprise), value: why.value, surprise: 0, reason: `${who}: ${why.reason}` } : quiet(point.value);
    }
    // A second member just as sure adds its own words ("noise burst …; also outlier: max …").
    const reason = second >= this.config.refractorySurprise ? `${who}: ${why.reason}; also ${also}` : `${who}: ${why.reason}`;
    return { score: scoreFromSurprise(s, this.config.alarmSurprise), value: why.value, surprise: s, reason };
  }

  /** The most overdue member's verdict on the silence up to `now` (state unchanged). */
  tick(now: number): Verdict {
    let best: Verdict = quiet(Number.NaN);
    let who = '';
    for (const m of this.members) {
      const v = m.detector.tick?.(now);
      if (v && (v.surprise ?? 0) * m.weight > (best.surprise ?? 0)) { best = v; who = LABELS[m.name]; }
    }
    const s = best.surprise ?? 0;
    return s > 0 ? { ...best, score: scoreFromSurprise(s, this.config.alarmSurprise), reason: `${who}: ${best.reason}` } : best;
  }

  snapshot(): State {
    const members: Partial<Record<MemberName, unknown>> = {};
    for (const m of this.members) members[m.name] = m.detector.snapshot();
    return { members, n: this.n, quietUntil: this.quietUntil, quietLevel: this.quietLevel };
  }
}

export const createEnsemble: DetectorFactory<EnsembleConfig> = (config, snapshot) => new Ensemble(config, snapshot);
