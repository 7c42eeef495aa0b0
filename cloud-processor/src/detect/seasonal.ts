import { z } from 'zod';
import { quiet, scoreFromSurprise, type Detector, type DetectorFactory, type SeriesPoint, type Verdict } from './detector.js';
import { CalibrationConfig, SurpriseMeter, type SurpriseMeterState } from './tail-calibrator.js';

export const SeasonalConfig = z.object({
  /** Length of the cycle in event time; a day by default. */
  periodMs: z.number().int().min(1_000).default(86_400_000),
  /** Upper bound on phase bins per cycle; the count itself follows the series' cadence. */
  maxBins: z.number().int().min(4).max(2_048).default(288),
  /** Cycles that must have passed before the profile is trusted. */
  minPeriods: z.number().min(1).default(2),
  /** Holt-Winters smoothing: level (per point) and seasonal profile (per visit of a bin). */
  levelAlpha: z.number().gt(0).lt(1).default(0.05),
  seasonalGamma: z.number().gt(0).lt(1).default(0.25),
  /** Residuals beyond this many scales update the model as if they were this far. */
  clipScales: z.number().positive().default(4),
  globalFloor: z.number().min(0).default(0.5),
  unclippedBinScale: z.boolean().default(false),
  smoothBins: z.number().int().min(0).default(0),
  calibration: CalibrationConfig.prefault({}),
});
export type SeasonalConfig = z.output<typeof SeasonalConfig>;

/** Δt samples used to learn the cadence, which fixes the number of bins. */
const CADENCE_SAMPLES = 15;
/** Smoothing of the residual scale, per bin visit and per point. */
const BIN_SCALE_BETA = 0.2;
const GLOBAL_SCALE_BETA = 0.001;

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
  meter: SurpriseMeterState | undefined;
}

/**
 * Seasonal baseline: additive Holt-Winters without trend. The cycle's phase comes from the
 * timestamp (ts mod period), split into as many bins as the series has points per cycle (learnt
 * from its first intervals, capped at `maxBins`). The prediction is level + profile[phase]; the
 * deviation is the residual in units of the usual residual at that phase, so a clean daily cycle
 * predicts itself and scores near zero, while a day that breaks the pattern stands out even when
 * every value lies inside the normal range.
 */
class Seasonal implements Detector {
  private readonly s: State;
  private readonly meter: SurpriseMeter;

  constructor(private readonly config: SeasonalConfig, snapshot?: unknown) {
    const s = snapshot as State | undefined;
    this.s = s
      ? { ...s, deltas: [...s.deltas], season: [...s.season], scale: [...s.scale], visits: [...s.visits] }
      : { firstTs: null, lastTs: null, deltas: [], bins: 0, level: 0, n: 0, season: [], scale: [], visits: [], globalScale: 0, meter: undefined };
    this.meter = new SurpriseMeter(config.calibration, s?.meter);
  }

  update(point: SeriesPoint): Verdict {
    const s = this.s;
    const x = point.value;
    if (s.firstTs === null) s.firstTs = point.ts;
    if (s.lastTs !== null && point.ts > s.lastTs && s.bins === 0) s.deltas.push(point.ts - s.lastTs);
    s.lastTs = point.ts;
    if (s.bins === 0) {
      if (s.deltas.length < CADENCE_SAMPLES) { s.level = s.n === 0 ? x : s.level + (x - s.level) / (s.n + 1); s.n++; return quiet(x, 'learning the cadence'); }
      const sorted = [...s.deltas].sort((a, b) => a - b);
      const cadence = sorted[sorted.length >> 1]!;
      s.bins = Math.max(4, Math.min(this.config.maxBins, Math.round(this.config.periodMs / cadence)));
      s.season = new Array<number>(s.bins).fill(0);
      s.scale = new Array<number>(s.bins).fill(0);
      s.visits = new Array<number>(s.bins).fill(0);
    }
    const period = this.config.periodMs;
    const phase = (((point.ts % period) + period) % period) / period;
    const b = Math.min(s.bins - 1, Math.floor(phase * s.bins));
    const visited = s.visits[b]! > 0;
    const pred = s.level + (visited ? s.season[b]! : 0);
    const r = x - pred;
    let binScale = visited ? s.scale[b]! : s.globalScale;
    const k = this.config.smoothBins;
    if (k > 0 && visited) {
      let sum = 0;
      let cnt = 0;
      for (let j = -k; j <= k; j++) {
        const bb = (b + j + s.bins) % s.bins;
        if (s.visits[bb]! > 1) { sum += s.scale[bb]!; cnt++; }
      }
      if (cnt > 0) binScale = Math.max(binScale, sum / cnt);
    }
    const scale = Math.max(binScale, this.config.globalFloor * s.globalScale, 1e-9 * Math.max(1, Math.abs(pred)));
    const trusted = visited && s.visits[b]! >= 2 && point.ts - s.firstTs >= this.config.minPeriods * period;
    let surprise = 0;
    let dev = 0;
    if (trusted) {
      dev = Math.max(Math.abs(r), Math.abs(point.max - pred), Math.abs(point.min - pred)) / scale;
      surprise = this.meter.judge(dev);
    }
    // Learn: clipped residual, so an anomaly bends the profile only a little.
    const lim = this.config.clipScales * scale;
    const rc = trusted ? Math.max(-lim, Math.min(lim, r)) : r;
    if (!visited) {
      s.season[b] = x - s.level;
    } else {
      s.level += this.config.levelAlpha * rc;
      s.season[b] = s.season[b]! + this.config.seasonalGamma * (1 - this.config.levelAlpha) * rc;
      const a = this.config.unclippedBinScale ? Math.abs(r) : Math.abs(rc);
      s.scale[b] = s.visits[b] === 1 ? a : s.scale[b]! + BIN_SCALE_BETA * (a - s.scale[b]!);
      // The global scale takes the unclipped residual: a series whose surprises are routine
      // (regular spikes) must learn their size, or each one stays "hundreds of scales" away.
      const g = Math.abs(r);
      s.globalScale = s.n < 1 / GLOBAL_SCALE_BETA ? s.globalScale + (g - s.globalScale) / (s.n + 1) : s.globalScale + GLOBAL_SCALE_BETA * (g - s.globalScale);
    }
    s.visits[b] = s.visits[b]! + 1;
    s.n++;
    const score = scoreFromSurprise(surprise, this.config.calibration.alarmSurprise);
    if (score < 0.3) return { score, value: x, reason: trusted ? 'normal' : 'learning the daily cycle', surprise };
    return { score, value: x, surprise, reason: `${r > 0 ? 'above' : 'below'} the usual ${pred.toPrecision(4)} for this time of the cycle by ${dev.toFixed(1)}× the usual deviation` };
  }

  snapshot(): State {
    const s = this.s;
    return { ...s, deltas: [...s.deltas], season: [...s.season], scale: [...s.scale], visits: [...s.visits], meter: this.meter.snapshot() };
  }
}

export const createSeasonal: DetectorFactory<SeasonalConfig> = (config, snapshot) => new Seasonal(config, snapshot);
