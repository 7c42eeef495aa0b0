import { z } from 'zod';
import {
  MAD_TO_SIGMA,
  scoreFromRatio,
  scoreFromSurprise,
  windowsIn,
  verdict,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { JitterScale } from '../stats/jitter-scale.js';
import { SortedWindow } from '../stats/sorted-window.js';
import { CalibrationConfig, SurpriseMeter, type SurpriseMeterState } from '../stats/tail-calibrator.js';
import { Slab } from '../stats/slab.js';

export const RobustZScoreConfig = z.object({
  /** How far back the points per field (mean, max, min) that the median and MAD are taken over reach (4 hours; 48 to 1,000 points). */
  historyMs: z.number().int().positive().default(14_400_000),
  /** History a series must have before it is scored (an hour; at least 12 points). */
  warmupMs: z.number().int().min(0).default(3_600_000),
  /** Robust z-score below which a point is never anomalous, however rare for its series. */
  zThreshold: z.number().positive().default(8),
  /**
   * Whether a window's max and min excursions are judged besides its mean. `off` in the ensemble,
   * whose window rules judge each reading's excursion against the noise of the level it is at.
   */
  excursions: z.enum(['judged', 'off']).default('judged'),
  calibration: CalibrationConfig.prefault({}),
});
export type RobustZScoreConfig = z.output<typeof RobustZScoreConfig>;

/**
 * Per point: the mean, and for windows of several readings the upward excursion (max − mean) and
 * downward one (mean − min). Excursions, unlike max and min themselves, do not follow a daily
 * cycle, so a one-reading spike stands out against them at any hour.
 */
const FIELDS = ['value', 'max', 'min'] as const;
type Field = (typeof FIELDS)[number];

interface State {
  history: Record<Field, number[]>;
  meter: SurpriseMeterState;
  jitter: ReturnType<JitterScale['snapshot']>;
}

/** Values a median and MAD are taken over at least, and points judged after at least, whatever the horizons' durations. */
const MIN_HISTORY = 48;
const MIN_WARMUP = 12;

/** The local scale never drops below this fraction of the series' long-run typical step. */
const JITTER_FLOOR = 0.5;
const JITTER_SPAN = 1_000;

/**
 * Robust z-score: how many robust standard deviations a point's mean lies from the median of the
 * means of the last `historyMs`, and (for windows of several readings) how far its max and min
 * stick out of the window beyond the usual excursion. The excursions catch a single-reading spike
 * inside a window, which barely moves the mean.
 * The largest of the three is then calibrated against this series' own past z-scores (a series
 * with heavy tails produces large z routinely), and a point must be both rare for its series and
 * at least `zThreshold` away to score 0.5.
 */
class RobustZScore implements Detector {
  private readonly fields: Record<Field, SortedWindow>;
  /** The fields whose history is kept (and judged). */
  private readonly kept: readonly Field[];
  private readonly meter: SurpriseMeter;
  private readonly jitter: JitterScale;

  /** The horizons in points of this series (see the config). */
  private readonly warmup: number;

  constructor(
    private readonly config: RobustZScoreConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    const w = context?.windowMs ?? 0;
    // At least the sample a median and MAD need (what the defaults are at 5-minute windows).
    const n = windowsIn(config.historyMs, w, MIN_HISTORY, 1_000);
    this.warmup = windowsIn(config.warmupMs, w, MIN_WARMUP);
    // Without excursions a window's max and min are never judged: their histories are not kept.
    this.kept = config.excursions === 'off' ? ['value'] : FIELDS;
    const saved = (f: Field): number[] | undefined => (this.kept.includes(f) ? s?.history[f] : undefined);
    // All the arrays in one buffer (stats/slab.ts).
    const slab = context?.slab ?? new Slab();
    this.fields = {
      value: new SortedWindow(n, saved('value'), 64, slab),
      max: new SortedWindow(n, saved('max'), 64, slab),
      min: new SortedWindow(n, saved('min'), 64, slab),
    };
    this.meter = new SurpriseMeter(config.calibration, s?.meter, w, slab);
    this.jitter = new JitterScale(JITTER_SPAN, s?.jitter);
  }

  update(point: SeriesPoint): Verdict {
    let zBest = 0;
    let field: Field = 'value';
    let center = 0;
    const raw = point.count <= 1;
    if (this.fields.value.length >= this.warmup) {
      for (const f of FIELDS) {
        // A raw row's max and min are its value; the ensemble leaves excursions to its window rules.
        if ((raw || this.config.excursions === 'off') && f !== 'value') break;
        const h = this.fields[f];
        const x = fieldOf(point, f);
        const median = h.median();
        // A flat history has MAD 0: fall back to the spread of the middle 80%, and never below
        // half the series' long-run typical step, so a change after a flat stretch is large but
        // measured against what this series usually does.
        const spread = Math.max(MAD_TO_SIGMA * h.mad(median), (h.quantile(0.9) - h.quantile(0.1)) / 2.5631);
        const scale = Math.max(spread, JITTER_FLOOR * this.jitter.value, 1e-9 * Math.max(1, Math.abs(median)));
        // Excursions count in one direction only: a window calmer than usual is no spike.
        const zf = (f === 'value' ? Math.abs(x - median) : x - median) / scale;
        if (zf > zBest) {
          zBest = zf;
          field = f;
          center = median;
        }
      }
    }
    const surprise = this.fields.value.length >= this.warmup ? this.meter.judge(zBest) : 0;
    for (const f of this.kept) this.fields[f].push(fieldOf(point, f));
    this.jitter.push(point.value);
    const score = Math.min(
      scoreFromSurprise(surprise, this.config.calibration.alarmSurprise),
      scoreFromRatio(zBest / this.config.zThreshold),
    );
    // quiet(point.value) with its surprise, built as one object (this is most windows).
    if (score < 0.3) return verdict(0, point.value, 'normal', surprise);
    if (field === 'value') {
      return verdict(
        score,
        point.value,
        `${raw ? 'value' : 'mean'} ${point.value.toPrecision(4)} is ${zBest.toFixed(1)} robust σ from the recent median ${center.toPrecision(4)}`,
        surprise,
      );
    }
    const x = point[field];
    const dir = field === 'max' ? 'above' : 'below';
    return verdict(
      score,
      x,
      `${field} ${x.toPrecision(4)} lies ${Math.abs(x - point.value).toPrecision(3)} ${dir} the window mean, ${zBest.toFixed(1)} robust σ beyond the usual ${center.toPrecision(3)}`,
      surprise,
    );
  }

  snapshot(): State {
    return {
      history: { value: this.fields.value.toArray(), max: this.fields.max.toArray(), min: this.fields.min.toArray() },
      meter: this.meter.snapshot(),
      jitter: this.jitter.snapshot(),
    };
  }
}

/** The value a field tracks: the mean, or the window's excursion above / below its mean. */
function fieldOf(p: SeriesPoint, f: Field): number {
  return f === 'value' ? p.value : f === 'max' ? p.max - p.value : p.value - p.min;
}

export const createRobustZScore: DetectorFactory<RobustZScoreConfig> = (config, snapshot, context) =>
  new RobustZScore(config, snapshot, context);
