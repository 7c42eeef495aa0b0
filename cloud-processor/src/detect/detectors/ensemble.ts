import { z } from 'zod';
import { quiet, scoreFromSurprise, type Detector, type DetectorContext, type DetectorFactory, type SeriesPoint, type Verdict } from '../detector.js';
import { createDrift, DriftConfig } from './drift.js';
import { createEwma, EwmaConfig } from './ewma.js';
import { createFlatline, FlatlineConfig } from './flatline.js';
import { createMissing, MissingConfig } from './missing.js';
import { createNovelty, NoveltyConfig } from './novelty.js';
import { createRateOfChange, RateOfChangeConfig } from './rate-of-change.js';
import { createRobustZScore, RobustZScoreConfig } from './robust-zscore.js';
import { createSeasonal, SeasonalConfig } from './seasonal.js';
import { RawWindows, type RawWindowsState } from '../stats/raw-windows.js';
import { createShift, ShiftConfig } from './shift.js';
import { createStaticThreshold, StaticThresholdConfig } from './static-threshold.js';
import { CalibrationConfig } from '../stats/tail-calibrator.js';
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
 * Calibration keys applied over every member's own. Only the keys a config gives, and the warm-up,
 * override a member's (`partial()` would fill the rest with the defaults and undo, say, volatility's
 * steeper tail). The warm-up is short by default: a sensor's 5-minute windows make only 288 points
 * a day, so 24 points (2 hours of them) before a member speaks.
 */
const CalibrationOverride = z.object({
  warmupPoints: CalibrationConfig.shape.warmupPoints.unwrap().default(24),
  halfLifePoints: CalibrationConfig.shape.halfLifePoints.unwrap().optional(),
  tailIndex: CalibrationConfig.shape.tailIndex.unwrap().optional(),
  rampPoints: CalibrationConfig.shape.rampPoints.unwrap().default(24),
  alarmSurprise: CalibrationConfig.shape.alarmSurprise.unwrap().optional(),
});

/**
 * The novelty member remembers 128 shapes (10 hours of 5-minute windows) instead of the standalone
 * detector's 512: it keeps a series' state small for fleets of many thousands of series.
 */
const EnsembleNoveltyConfig = NoveltyConfig.extend({ memorySize: NoveltyConfig.shape.memorySize.default(128) });
/** The level member judges a window's mean; its readings' excursions are the window rules' (one test, not two). */
const EnsembleLevelConfig = RobustZScoreConfig.extend({ excursions: RobustZScoreConfig.shape.excursions.default('off') });

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
   * Event time after an alarm, and after the last point since at half the alarm or more or still
   * away from the level it left (the event goes on while it does), during which it is not
   * reported again… (2 hours: 24 of the 5-minute windows NAB was fitted on)…
   */
  refractoryMs: z.number().int().min(0).default(7_200_000),
  /** …and at least this many points (a series of a point an hour spans a day: NAB's events span points, whatever their spacing)… */
  refractoryPoints: z.number().int().min(0).default(24),
  /** …unless it becomes this much more surprising (log10 units: 1 = ten times rarer). */
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
  rate: member(RateOfChangeConfig),
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

/** The members, in the order their verdicts are read (the first of equal surprises names the reason). */
const MEMBERS = {
  shape: (c: WindowRulesConfig, s?: unknown, context?: DetectorContext) => createWindowRules(c, s, context),
  drift: (c: DriftConfig, s?: unknown, context?: DetectorContext) => createDrift(c, s, context),
  limits: (c: StaticThresholdConfig, s?: unknown) => createStaticThreshold(c, s),
  flatline: (c: FlatlineConfig, s?: unknown) => createFlatline(c, s),
  missing: (c: MissingConfig, s?: unknown) => createMissing(c, s),
  level: (c: RobustZScoreConfig, s?: unknown) => createRobustZScore(c, s),
  ewma: (c: EwmaConfig, s?: unknown) => createEwma(c, s),
  shift: (c: ShiftConfig, s?: unknown) => createShift(c, s),
  rate: (c: RateOfChangeConfig, s?: unknown) => createRateOfChange(c, s),
  volatility: (c: VolatilityConfig, s?: unknown) => createVolatility(c, s),
  daily: (c: SeasonalConfig, s?: unknown) => createSeasonal(c, s),
  weekly: (c: SeasonalConfig, s?: unknown) => createSeasonal(c, s),
  novelty: (c: NoveltyConfig, s?: unknown) => createNovelty(c, s),
} as const;
type MemberName = keyof typeof MEMBERS;

/**
 * Members whose surprise at a point's level or shape is explained when another member knows the
 * point is the series' normal life (the window rules: a switch between known levels). They are
 * read after the window rules (MEMBERS' order).
 */
const EXPLAINED: ReadonlySet<MemberName> = new Set(['level', 'ewma', 'shift', 'rate', 'daily', 'weekly']);

/** Members that report `alarmSurprise × (how far past their threshold)`, not a calibrated surprise. */
const RULES: ReadonlySet<MemberName> = new Set(['shape', 'drift']);

/** How a member is named in a verdict's reason ("daily cycle: above the usual …"). */
const LABELS: Record<MemberName, string> = {
  shape: 'sensor fault',
  drift: 'drift',
  limits: 'limit',
  flatline: 'stuck sensor',
  missing: 'dropout',
  level: 'outlier',
  ewma: 'level change',
  shift: 'level shift',
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
  readonly label: string;
  readonly detector: Detector;
  readonly weight: number;
  /** Judges every row (the shift member), not the windows fast rows are gathered into. */
  readonly everyRow: boolean;
  /** Its surprise is explained while a known switch is in view (EXPLAINED, and novelty). */
  readonly explainable: boolean;
}

interface State {
  members: Partial<Record<MemberName, unknown>>;
  n: number;
  quietUntil: number;
  quietPoints?: number;
  quietLevel: number;
  knownUntil?: number;
  raw?: RawWindowsState;
}

/**
 * The default detector: every member judges the point, each in its own calibrated surprise
 * (−log10 of how rare the point is for this series by that member's measure), and the most
 * surprised member speaks for the ensemble. Calibration is what lets one threshold serve every
 * series and lets unlike members be compared at all.
 *
 * One event makes several consecutive points surprising; reporting each would be one alarm
 * repeated. So a point at `alarmSurprise` or above opens a refractory period of `refractoryMs`
 * (event time, running on while the event goes on), during which points are reported as 0 unless
 * they are `refractoryMargin` more surprising than the one that opened it (which then opens a new
 * period). It never depends on the series' length.
 */
class Ensemble implements Detector {
  private readonly members: Member[] = [];
  private n: number;
  /** The refractory period lasts until this time and this point (see refractoryMs, refractoryPoints). */
  private quietUntil: number;
  private quietPoints: number;
  private quietLevel: number;
  /** Points before which a known switch explains level and pattern members' surprise (see EXPLAINED). */
  private knownUntil: number;
  private readonly raw: RawWindows;
  /** The current row as a one-point list, reused (no allocation per point). */
  private readonly row: SeriesPoint[] = [];
  /** The member that holds a series to the level it left when the ensemble alarms. */
  private shift: (Detector & { alarmed(ts: number): void }) | undefined;

  constructor(private readonly config: EnsembleConfig, snapshot?: unknown, context?: DetectorContext) {
    const s = snapshot as State | undefined;
    // Members that judge windows see this series' windows, or (raw rows) those its fast rows are
    // gathered into; with no context at all, the default window length.
    const windows: DetectorContext = { windowMs: context === undefined ? 0 : context.windowMs || config.rawWindowMs };
    for (const name of Object.keys(MEMBERS) as MemberName[]) {
      const own = config[name];
      if (own === false) continue;
      let c: object = 'calibration' in own ? { ...own, calibration: { ...own.calibration, ...config.calibration } } : own;
      // Rules report the alarm surprise exactly at their threshold: the ensemble's alarm.
      if (RULES.has(name)) c = { ...c, alarmSurprise: config.alarmSurprise };
      // A member that holds a state away from normal leaves it at half the ensemble's alarm.
      if (name === 'shift') c = { ...c, calibration: { ...(c as ShiftConfig).calibration, alarmSurprise: config.alarmSurprise } };
      const create = MEMBERS[name] as (c: unknown, s?: unknown, context?: DetectorContext) => Detector;
      const detector = create(c, s?.members[name], windows);
      if (name === 'shift') this.shift = detector as Detector & { alarmed(ts: number): void };
      this.members.push({ name, label: LABELS[name], detector, weight: config.weights[name] ?? DEFAULT_WEIGHTS[name] ?? 1, everyRow: name === 'shift', explainable: EXPLAINED.has(name) || name === 'novelty' });
    }
    this.raw = new RawWindows(config.rawWindowMs, s?.raw);
    this.n = s?.n ?? 0;
    this.quietUntil = s?.quietUntil ?? -Infinity;
    this.quietPoints = s?.quietPoints ?? -Infinity;
    this.quietLevel = s?.quietLevel ?? 0;
    this.knownUntil = s?.knownUntil ?? 0;
  }

  update(point: SeriesPoint): Verdict {
    // Ingest validates values; should a non-finite one get through, it must not poison the state.
    if (!Number.isFinite(point.value) || !Number.isFinite(point.ts)) return { score: 0, value: point.value, surprise: 0, reason: 'not a finite value: ignored' };
    let best = 0;
    let why: Verdict | undefined;
    let who = '';
    let second = 0;
    let alsoWhy: Verdict | undefined;
    let alsoWho = '';
    let hold = 0;
    let held: Verdict | undefined;
    // The shift member judges every row; the others, the windows fast rows are gathered into.
    const windows = this.raw.push(point);
    this.row[0] = point;
    for (const m of this.members) {
      const points = m.everyRow ? this.row : windows;
      for (let k = 0; k < points.length; k++) {
        const v = m.detector.update(points[k]!);
        // A shape holds the switch for as many points as it is long.
        if (v.known === true) this.knownUntil = this.n + (this.config.novelty === false ? 1 : this.config.novelty.embedLength);
        const s = m.explainable && this.n < this.knownUntil ? 0 : (v.surprise ?? 0) * m.weight;
        if (v.hold !== undefined && v.hold * m.weight > hold) { hold = v.hold * m.weight; held = v; }
        if (s > best) {
          if (why) { second = best; alsoWhy = why; alsoWho = who; }
          best = s; why = v; who = m.label;
        } else if (s > second) { second = s; alsoWhy = v; alsoWho = m.label; }
      }
    }
    this.n++;
    let s = best;
    const t = point.ts;
    if ((t < this.quietUntil || this.n <= this.quietPoints) && s <= this.quietLevel + this.config.refractoryMargin) {
      // The event lasts while the series stays at half the alarm or more, or away from where it
      // was: its period runs on from there.
      if (Math.max(best, hold) >= this.config.alarmSurprise / 2) this.quiet(t);
      s = 0;
    } else if (s >= this.config.alarmSurprise) {
      this.quietUntil = this.quietPoints = -Infinity;
      this.quiet(t);
      this.quietLevel = s;
      this.shift?.alarmed(point.ts);
    }
    // The level an alert is held by: a point alarming in its own right (repeats of one event
    // included, which the refractory period leaves unreported), or a fault that persists.
    const alarming = best >= this.config.alarmSurprise ? best : 0;
    const level = scoreFromSurprise(Math.max(alarming, hold), this.config.alarmSurprise);
    if (s === 0 || !why) {
      if (hold > alarming && held) return { score: 0, level, value: held.value, surprise: 0, hold, reason: `${LABELS.shift}: ${held.reason}` };
      return alarming > 0 && why ? { score: 0, level, value: why.value, surprise: 0, reason: `${who}: ${why.reason}` } : quiet(point.value);
    }
    // A second member just as sure adds its own words ("noise burst …; also outlier: max …").
    const reason = second >= this.config.alarmSurprise && alsoWhy ? `${who}: ${why.reason}; also ${alsoWho}: ${alsoWhy.reason}` : `${who}: ${why.reason}`;
    return { score: scoreFromSurprise(s, this.config.alarmSurprise), level, value: why.value, surprise: s, hold, reason };
  }

  /** Runs the refractory period on from the point at `t` (the n-th). */
  private quiet(t: number): void {
    this.quietUntil = Math.max(this.quietUntil, t + this.config.refractoryMs);
    this.quietPoints = Math.max(this.quietPoints, this.n + this.config.refractoryPoints);
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
    return { members, n: this.n, quietUntil: this.quietUntil, quietPoints: this.quietPoints, quietLevel: this.quietLevel, knownUntil: this.knownUntil, raw: this.raw.snapshot() };
  }
}

export const createEnsemble: DetectorFactory<EnsembleConfig> = (config, snapshot, context) => new Ensemble(config, snapshot, context);
