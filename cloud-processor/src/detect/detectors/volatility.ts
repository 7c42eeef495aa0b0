import { z } from 'zod';
import {
  quiet,
  scoreFromSurprise,
  windowsIn,
  verdict,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { SortedWindow } from '../stats/sorted-window.js';
import { CalibrationConfig, SurpriseMeter, type SurpriseMeterState } from '../stats/tail-calibrator.js';
import { Slab } from '../stats/slab.js';

export const VolatilityConfig = z.object({
  /** How far back the windows whose median spread is the series' usual noise level reach (8 hours; 96 to 1,000 windows). */
  historyMs: z.number().int().positive().default(28_800_000),
  /** Spread ratios of windows of several readings are light-tailed: a steep Pareto index. */
  calibration: CalibrationConfig.prefault({ warmupMs: 7_200_000, tailIndex: 12 }),
});
export type VolatilityConfig = z.output<typeof VolatilityConfig>;

interface State {
  history: number[];
  meter: SurpriseMeterState;
}

/**
 * Noise burst: a window whose spread (stddev of its readings) jumps above the series' usual
 * spread, as a loose connector or a failing sensor produces while the mean stays put. The ratio
 * to the recent median spread is calibrated against the ratios seen before. Raw rows carry no
 * spread (count 1): they are never judged, so on raw series this detector is silent.
 */
class Volatility implements Detector {
  private readonly history: SortedWindow;
  private readonly meter: SurpriseMeter;

  constructor(
    private readonly config: VolatilityConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    const w = context?.windowMs ?? 0;
    // Both arrays in one buffer (stats/slab.ts).
    const slab = context?.slab ?? new Slab();
    this.history = new SortedWindow(windowsIn(config.historyMs, w, 96, 1_000), s?.history, 64, slab);
    this.meter = new SurpriseMeter(config.calibration, s?.meter, w, slab);
  }

  update(point: SeriesPoint): Verdict {
    if (point.count <= 1 || !Number.isFinite(point.stddev)) return quiet(point.value);
    const usual = this.history.length > 0 ? this.history.median() : 0;
    const q90 = this.history.length > 0 ? this.history.quantile(0.9) : 0;
    // The floor keeps a series with mostly flat windows from dividing by zero.
    const ratio = point.stddev / Math.max(usual, 0.1 * q90, 1e-9 * Math.max(1, Math.abs(point.value)));
    const surprise = this.history.length >= 8 ? this.meter.judge(ratio) : 0;
    this.history.push(point.stddev);
    const score = point.stddev > usual ? scoreFromSurprise(surprise, this.config.calibration.alarmSurprise) : 0;
    if (score < 0.3) return verdict(score, point.stddev, 'normal', point.stddev > usual ? surprise : 0);
    return verdict(
      score,
      point.stddev,
      `spread ${point.stddev.toPrecision(3)} is ${ratio.toFixed(1)}× the usual ${usual.toPrecision(3)}`,
      surprise,
    );
  }

  snapshot(): State {
    return { history: this.history.toArray(), meter: this.meter.snapshot() };
  }
}

export const createVolatility: DetectorFactory<VolatilityConfig> = (config, snapshot, context) =>
  new Volatility(config, snapshot, context);
