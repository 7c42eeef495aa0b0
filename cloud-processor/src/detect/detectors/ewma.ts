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
import { JitterScale } from '../stats/jitter-scale.js';
import { CalibrationConfig, SurpriseMeter, type SurpriseMeterState } from '../stats/tail-calibrator.js';

export const EwmaConfig = z.object({
  /** Points over which the mean and variance forget (α = 2 / (span + 1)). */
  spanPoints: z.number().min(2).default(60),
  /** Residuals beyond this many σ update the mean and variance as if they were this far (robustness). */
  clipSigma: z.number().positive().default(4),
  calibration: CalibrationConfig.prefault({}),
});
export type EwmaConfig = z.output<typeof EwmaConfig>;

interface State {
  n: number;
  mean: number;
  variance: number;
  meter: SurpriseMeterState;
  jitter: ReturnType<JitterScale['snapshot']>;
}

/** σ never drops below this fraction of the series' long-run typical step (see JitterScale). */
const JITTER_FLOOR = 0.5;
const JITTER_SPAN = 1_000;

/**
 * Exponentially weighted mean and variance. The deviation is how many σ the point's mean lies
 * from the running mean; it reacts within a span to a level shift or a drift and then
 * accepts the new level. Residuals are clipped before they update the statistics, so one spike
 * does not inflate σ and hide the next.
 */
class Ewma implements Detector {
  private readonly alpha: number;
  private readonly s: Pick<State, 'n' | 'mean' | 'variance'>;
  private readonly meter: SurpriseMeter;
  private readonly jitter: JitterScale;

  constructor(
    private readonly config: EwmaConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    this.alpha = 2 / (config.spanPoints + 1);
    const s = snapshot as State | undefined;
    this.s = { n: s?.n ?? 0, mean: s?.mean ?? 0, variance: s?.variance ?? 0 };
    this.meter = new SurpriseMeter(config.calibration, s?.meter, context?.windowMs, context?.slab);
    this.jitter = new JitterScale(JITTER_SPAN, s?.jitter);
  }

  update(point: SeriesPoint): Verdict {
    const s = this.s;
    const x = point.value;
    if (s.n === 0) {
      s.n = 1;
      s.mean = x;
      this.jitter.push(x);
      return quiet(x, 'warming up');
    }
    const sigma = Math.sqrt(s.variance);
    const floor = 1e-9 * Math.max(1, Math.abs(s.mean));
    const sd = Math.max(sigma, JITTER_FLOOR * this.jitter.value, floor);
    // The mean only: max and min are the robust z-score's (each against its own history).
    const z = Math.abs(x - s.mean) / sd;
    // Warm-up of the statistics themselves: a few spans before σ means anything.
    const surprise = s.n > 2 ? this.meter.judge(z) : 0;
    const r = x - s.mean;
    const lim = this.config.clipSigma * sd;
    const rc = s.n > 10 ? Math.max(-lim, Math.min(lim, r)) : r;
    const a = s.n < 1 / this.alpha ? 1 / (s.n + 1) : this.alpha; // plain averages until the span fills
    s.mean += a * rc;
    s.variance = (1 - a) * (s.variance + a * rc * rc);
    s.n++;
    this.jitter.push(x);
    const score = scoreFromSurprise(surprise, this.config.calibration.alarmSurprise);
    if (score < 0.3) return verdict(score, x, 'normal', surprise);
    return verdict(
      score,
      x,
      `${r > 0 ? 'above' : 'below'} the recent average ${(s.mean - a * rc).toPrecision(4)} by ${z.toFixed(1)} σ`,
      surprise,
    );
  }

  snapshot(): State {
    return {
      n: this.s.n,
      mean: this.s.mean,
      variance: this.s.variance,
      meter: this.meter.snapshot(),
      jitter: this.jitter.snapshot(),
    };
  }
}

export const createEwma: DetectorFactory<EwmaConfig> = (config, snapshot, context) =>
  new Ewma(config, snapshot, context);
