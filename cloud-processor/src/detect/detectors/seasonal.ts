import { z } from 'zod';
import {
  quiet,
  scoreFromSurprise,
  verdict,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { PhaseBins } from '../stats/phase-bins.js';
import { Slab } from '../stats/slab.js';
import { CalibrationConfig, SurpriseMeter, type SurpriseMeterState } from '../stats/tail-calibrator.js';

export const SeasonalConfig = z.object({
  /** Length of the cycle in event time; a day by default. */
  periodMs: z.number().int().min(1_000).default(86_400_000),
  /** Upper bound on phase bins per cycle; the count itself follows the series' cadence. */
  maxBins: z.number().int().min(4).max(2_048).default(288),
  /** Cycles that must have passed before the profile is trusted. */
  minPeriods: z.number().min(1).default(2),
  /** Holt-Winters smoothing: level (per point) and seasonal profile (per visit of a bin, see `learning`). */
  levelAlpha: z.number().gt(0).lt(1).default(0.02),
  seasonalGamma: z.number().gt(0).lt(1).default(0.25),
  /**
   * What a visit of a bin is, where `maxBins` caps the bins below the points a cycle has (minute
   * windows: 1,440 a day in 288 bins, five points in a row in each bin each day). `per-cycle`: the
   * bin's points of one cycle share a visit (each takes 1/(points a bin) of γ and of its scale's
   * β), so the profile and its scale learn from cycle to cycle as with one point a bin. `per-point`:
   * each point is a visit, and the bin follows the points before it in this cycle: its scale becomes
   * the minute-to-minute wander, against which a usual day-to-day difference, at the bin's first
   * point, read as 7-25 deviations. One point a bin (5-minute windows for a day): the same.
   */
  learning: z.enum(['per-cycle', 'per-point']).default('per-cycle'),
  /** Residuals beyond this many scales update the model as if they were this far. */
  clipScales: z.number().positive().default(4),
  /** The local scale never drops below this fraction of the long-run residual scale. */
  globalFloor: z.number().min(0).default(0.5),
  /**
   * Drift and small lasting shifts, which no single point shows and the adapting level absorbs:
   * the exponentially weighted mean of the last ~`driftSpanPoints` residuals, in units of its
   * standard error (residuals scaled by the long-run residual scale), calibrated like the rest.
   */
  drift: z.enum(['mean-residual', 'off']).default('off'),
  driftSpanPoints: z.number().int().min(2).default(12),
  /**
   * Read the profile between bin centres (linear interpolation) rather than per bin: smoother
   * when there are fewer bins than points per cycle. Off by default: with one bin per point it
   * adds nothing, and on irregularly spaced series it blurs the phase.
   */
  interpolate: z.boolean().default(false),
  calibration: CalibrationConfig.prefault({}),
  /**
   * The drift statistic's own calibration (a separate meter: it averages noise away, so a lighter
   * tail, a larger tailIndex, can be set here). The defaults are the same as `calibration`'s.
   */
  driftCalibration: CalibrationConfig.prefault({}),
});
export type SeasonalConfig = z.output<typeof SeasonalConfig>;

/** Δt samples used to learn the cadence, which fixes the number of bins. */
const CADENCE_SAMPLES = 15;
/** Smoothing of the residual scale, per bin visit and per point. */
const BIN_SCALE_BETA = 0.2;
const GLOBAL_SCALE_BETA = 0.001;

/** Seasonal's float64s in its region of the slab. */
const FIRST_TS = 0;
const LAST_TS = 1;
const LEVEL = 2;
const GLOBAL_SCALE = 3;
const DRIFT_MEAN = 4;
const SCALARS = 5;
/** The cadence's samples once it is learnt: none (never pushed to: the bins are fixed). */
const NO_DELTAS: number[] = [];

interface State {
  firstTs: number | null;
  lastTs: number | null;
  deltas: number[];
  bins: number;
  level: number;
  n: number;
  season: number[];
  scale: number[];
  visits: number[];
  globalScale: number;
  /** EWMA of the standardised residuals (drift). */
  driftMean: number;
  meter?: SurpriseMeterState;
  driftMeter?: SurpriseMeterState;
}

/**
 * Seasonal baseline: additive Holt-Winters without trend. The cycle's phase comes from the
 * timestamp (ts mod period), split into as many bins as the series has points per cycle (learnt
 * from its first intervals, capped at `maxBins`; optionally interpolated between bin centres). The prediction is
 * level + profile(phase); the deviation is the residual in units of the usual residual at that
 * phase. A clean daily cycle predicts itself and scores near zero, while a day that breaks the
 * pattern stands out even when every value lies inside the normal range.
 */
class Seasonal implements Detector {
  /**
   * FIRST_TS, LAST_TS (NaN for none), LEVEL, GLOBAL_SCALE and DRIFT_MEAN: float64s in a region of the
   * slab (a number in a field, or in a state object, was a 16-byte heap object of its own).
   */
  private readonly scalars: number;
  /** Intervals seen while learning the cadence (empty once the bins are fixed). */
  private deltas: number[];
  /** Phase bins in a cycle (0 while the cadence is learnt). */
  private bins: number;
  /** Points seen. */
  private n: number;
  /** The profile and its scales by phase bin, once the cadence fixed their number. */
  private phases: PhaseBins | undefined;
  /**
   * The deviations' calibration, made at the first one judged: the member judges only once its
   * profile is trusted (two cycles: two weeks for the weekly one), and a meter made at the start
   * held its objects and regions all that time for nothing (issue 18). One made then starts as a
   * new one did.
   */
  private meter: SurpriseMeter | undefined;
  /** Where the profile's and the calibrations' arrays are (the series' slab: stats/slab.ts). */
  private readonly slab: Slab;
  /** The drift statistic's calibration, when the drift statistic is on (made as `meter` is). */
  private driftMeter: SurpriseMeter | undefined;
  /** The series' window length (0: raw rows of unknown cadence), for the points a bin takes a cycle. */
  private readonly windowMs: number;

  constructor(
    private readonly config: SeasonalConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    const slab = (this.slab = context?.slab ?? new Slab());
    this.windowMs = context?.windowMs ?? 0;
    this.scalars = slab.alloc(SCALARS * 8);
    slab.setNum(this.scalars, FIRST_TS, s?.firstTs ?? Number.NaN);
    slab.setNum(this.scalars, LAST_TS, s?.lastTs ?? Number.NaN);
    slab.setNum(this.scalars, LEVEL, s?.level ?? 0);
    slab.setNum(this.scalars, GLOBAL_SCALE, s?.globalScale ?? 0);
    slab.setNum(this.scalars, DRIFT_MEAN, s?.driftMean ?? 0);
    this.deltas = s ? [...s.deltas] : [];
    this.bins = s?.bins ?? 0;
    this.n = s?.n ?? 0;
    if (s && s.bins > 0) this.phases = new PhaseBins(s.bins, s, slab);
    // A saved meter that has judged nothing is a new one: made when first needed, as here.
    if (s?.meter !== undefined && s.meter.seen > 0)
      this.meter = new SurpriseMeter(config.calibration, s.meter, this.windowMs, slab);
    if (config.drift === 'mean-residual' && s?.driftMeter !== undefined && s.driftMeter.seen > 0)
      this.driftMeter = new SurpriseMeter(config.driftCalibration, s.driftMeter, this.windowMs, slab);
  }

  /** The calibration of `config` (the deviations' or the drift statistic's), new in this series' slab, or one of its own (`slab` undefined: for a snapshot). */
  private newMeter(config: SeasonalConfig['calibration'], slab?: Slab): SurpriseMeter {
    return new SurpriseMeter(config, undefined, this.windowMs, slab);
  }

  update(point: SeriesPoint): Verdict {
    const x = point.value;
    const slab = this.slab;
    const at = this.scalars;
    if (Number.isNaN(slab.num(at, FIRST_TS))) slab.setNum(at, FIRST_TS, point.ts);
    const firstTs = slab.num(at, FIRST_TS);
    const lastTs = slab.num(at, LAST_TS);
    if (!Number.isNaN(lastTs) && point.ts > lastTs && this.bins === 0) this.deltas.push(point.ts - lastTs);
    slab.setNum(at, LAST_TS, point.ts);
    let level = slab.num(at, LEVEL);
    if (this.bins === 0) {
      slab.setNum(at, LEVEL, this.n === 0 ? x : level + (x - level) / (this.n + 1));
      this.n++;
      if (this.deltas.length < CADENCE_SAMPLES) return quiet(x, 'learning the cadence');
      const sorted = [...this.deltas].sort((a, b) => a - b);
      // The cadence is learnt: its samples are no longer needed.
      this.deltas = NO_DELTAS;
      const cadence = sorted[sorted.length >> 1]!;
      this.bins = Math.max(4, Math.min(this.config.maxBins, Math.round(this.config.periodMs / cadence)));
      this.phases = new PhaseBins(this.bins, undefined, slab);
      return quiet(x, 'learning the cycle');
    }
    const nBins = this.bins;
    let globalScale = slab.num(at, GLOBAL_SCALE);
    const bins = this.phases!;
    const period = this.config.periodMs;
    // Bin centres sit at (b + 0.5) / bins of the cycle; the point lies between b0 and b1.
    const pos = ((((point.ts % period) + period) % period) / period) * nBins - (this.config.interpolate ? 0.5 : 0);
    const fl = Math.floor(pos);
    const f = this.config.interpolate ? pos - fl : 0;
    const b0 = (fl + nBins) % nBins;
    const b1 = (b0 + 1) % nBins;
    const v0 = bins.visits(b0);
    const v1 = bins.visits(b1);
    const w1 = v0 === 0 ? 1 : v1 === 0 ? 0 : f;
    const visited = v0 > 0 || v1 > 0;
    const profile = visited ? (1 - w1) * bins.season(b0) + w1 * bins.season(b1) : 0;
    const binScale = visited ? (1 - w1) * bins.scale(b0) + w1 * bins.scale(b1) : globalScale;
    const pred = level + profile;
    const r = x - pred;
    const scale = Math.max(binScale, this.config.globalFloor * globalScale, 1e-9 * Math.max(1, Math.abs(pred)));
    const trusted = v0 >= 2 && v1 >= 2 && point.ts - firstTs >= this.config.minPeriods * period;
    let surprise = 0;
    let dev = 0;
    let drifting = false;
    const lim = this.config.clipScales * scale;
    const rc = trusted ? Math.max(-lim, Math.min(lim, r)) : r;
    if (trusted) {
      // The mean only: a window's max and min wander further than its mean by nature, and the
      // robust z-score judges them against their own history.
      dev = Math.abs(r) / scale;
      surprise = (this.meter ??= this.newMeter(this.config.calibration, this.slab)).judge(dev);
      // The deviations are learnt over a whole cycle before they are judged: how far a day strays
      // from the profile differs by the hour (an office's CO2 at nine, not at three), and a
      // calibration that has seen only some hours takes the others' usual strays for rare.
      if (point.ts - firstTs < (this.config.minPeriods + 1) * period) surprise = 0;
      if (this.config.drift === 'mean-residual') {
        // Standardised by the long-run scale: per-bin scales from a few visits are too noisy to
        // average over. √((2 − a) / a) turns the EWMA of unit-variance noise back to unit variance.
        const a = 2 / (this.config.driftSpanPoints + 1);
        const zr = r / Math.max(1.25 * globalScale, 1e-9 * Math.max(1, Math.abs(pred)));
        let driftMean = slab.num(at, DRIFT_MEAN);
        driftMean += a * (Math.max(-this.config.clipScales, Math.min(this.config.clipScales, zr)) - driftMean);
        slab.setNum(at, DRIFT_MEAN, driftMean);
        this.driftMeter ??= this.newMeter(this.config.driftCalibration, this.slab);
        const ds = this.driftMeter.judge(Math.abs(driftMean) * Math.sqrt((2 - a) / a));
        if (ds > surprise) {
          surprise = ds;
          drifting = true;
        }
      }
    }
    // Learn, from the clipped residual so an anomaly bends the profile only a little.
    level += (visited ? this.config.levelAlpha : 0) * rc;
    slab.setNum(at, LEVEL, level);
    const share = this.config.learning === 'per-cycle' ? this.shareOfVisit : 1;
    const g = this.config.seasonalGamma * (1 - this.config.levelAlpha) * share;
    const a = Math.abs(rc);
    for (let k = 0; k < 2; k++) {
      const b = k === 0 ? b0 : b1;
      const w = k === 0 ? 1 - f : f;
      const visits = bins.visits(b);
      if (visits === 0) bins.visit(b, x - level, visited ? a : globalScale);
      // The second visit replaces the first guess; later ones smooth.
      else
        bins.visit(
          b,
          bins.season(b) + g * w * rc,
          visits === 1 ? a : bins.scale(b) + BIN_SCALE_BETA * share * w * (a - bins.scale(b)),
        );
    }
    // The long-run scale takes the unclipped residual: a series whose surprises are routine
    // (regular spikes) must learn their size, or each one stays "hundreds of scales" away.
    if (visited) {
      const m = this.n - CADENCE_SAMPLES;
      globalScale += (m < 1 / GLOBAL_SCALE_BETA ? 1 / Math.max(1, m) : GLOBAL_SCALE_BETA) * (Math.abs(r) - globalScale);
      slab.setNum(at, GLOBAL_SCALE, globalScale);
    }
    this.n++;
    const score = scoreFromSurprise(surprise, this.config.calibration.alarmSurprise);
    if (score < 0.3) return verdict(score, x, trusted ? 'normal' : 'learning the cycle', surprise);
    const where = `the usual ${pred.toPrecision(4)} for this time of the cycle`;
    const reason = drifting
      ? `drifting ${slab.num(at, DRIFT_MEAN) > 0 ? 'above' : 'below'} ${where}: the recent residuals average ${Math.abs(slab.num(at, DRIFT_MEAN)).toFixed(1)} scales`
      : `${r > 0 ? 'above' : 'below'} ${where} by ${dev.toFixed(1)}× the usual deviation`;
    return verdict(score, x, reason, surprise);
  }

  /** A point's share of a visit per cycle: 1 / (its windows in a bin's span), 1 where each point has its bin (or the length is unknown). */
  private get shareOfVisit(): number {
    return this.windowMs > 0 ? Math.min(1, (this.windowMs * this.bins) / this.config.periodMs) : 1;
  }

  snapshot(): State {
    const slab = this.slab;
    const at = this.scalars;
    const profile = this.phases?.snapshot() ?? { season: [], scale: [], visits: [] };
    const firstTs = slab.num(at, FIRST_TS);
    const lastTs = slab.num(at, LAST_TS);
    return {
      firstTs: Number.isNaN(firstTs) ? null : firstTs,
      lastTs: Number.isNaN(lastTs) ? null : lastTs,
      deltas: [...this.deltas],
      bins: this.bins,
      level: slab.num(at, LEVEL),
      n: this.n,
      globalScale: slab.num(at, GLOBAL_SCALE),
      driftMean: slab.num(at, DRIFT_MEAN),
      ...profile,
      meter: (this.meter ?? this.newMeter(this.config.calibration)).snapshot(),
      ...(this.config.drift === 'mean-residual'
        ? { driftMeter: (this.driftMeter ?? this.newMeter(this.config.driftCalibration)).snapshot() }
        : {}),
    };
  }
}

export const createSeasonal: DetectorFactory<SeasonalConfig> = (config, snapshot, context) =>
  new Seasonal(config, snapshot, context);
