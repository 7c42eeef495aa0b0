import { z } from 'zod';
import { quiet, scoreFromSurprise, type Detector, type DetectorFactory, type SeriesPoint, type Verdict } from '../detector.js';
import { SortedWindow } from '../stats/sorted-window.js';
import { CalibrationConfig, SurpriseMeter, type SurpriseMeterState } from '../stats/tail-calibrator.js';

export const VolatilityConfig = z.object({
  /** Recent windows whose median spread is the series' usual noise level. */
  historyWindows: z.number().int().min(8).max(1_000).default(96),
  /** Spread ratios of windows of several readings are light-tailed: a steep Pareto index. */
  calibration: CalibrationConfig.prefault({ warmupPoints: 24, tailIndex: 12 }),
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

  constructor(private readonly config: VolatilityConfig, snapshot?: unknown) {
    const s = snapshot as State | undefined;
    this.history = new SortedWindow(config.historyWindows, s?.history);
    this.meter = new SurpriseMeter(config.calibration, s?.meter);
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
    if (score < 0.3) return { score, value: point.stddev, reason: 'normal', surprise: point.stddev > usual ? surprise : 0 };
    return { score, value: point.stddev, surprise, reason: `spread ${point.stddev.toPrecision(3)} is ${ratio.toFixed(1)}× the usual ${usual.toPrecision(3)}` };
  }

  snapshot(): State {
    return { history: this.history.toArray(), meter: this.meter.snapshot() };
  }
}

export const createVolatility: DetectorFactory<VolatilityConfig> = (config, snapshot) => new Volatility(config, snapshot);
