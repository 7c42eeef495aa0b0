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

export const RateOfChangeConfig = z.object({
  /** Points over which the typical step and the cadence are learnt. */
  spanPoints: z.number().int().min(2).default(500),
  calibration: CalibrationConfig.prefault({}),
});
export type RateOfChangeConfig = z.output<typeof RateOfChangeConfig>;

interface State {
  lastTs: number | null;
  last: number;
  cadence: number;
  n: number;
  jitter: ReturnType<JitterScale['snapshot']>;
  meter: SurpriseMeterState;
}

/**
 * Rate of change: the step from the previous point in units of the series' typical step, after
 * allowing for time (a change across a gap of k usual intervals is divided by √k, as a random
 * walk's would be). Catches a sudden jump or drop that is still inside the usual range of values,
 * which a level detector with a wide range does not see.
 */
class RateOfChange implements Detector {
  private readonly s: Omit<State, 'jitter' | 'meter'>;
  private readonly jitter: JitterScale;
  private readonly meter: SurpriseMeter;

  constructor(
    private readonly config: RateOfChangeConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    this.s = { lastTs: s?.lastTs ?? null, last: s?.last ?? 0, cadence: s?.cadence ?? 0, n: s?.n ?? 0 };
    this.jitter = new JitterScale(config.spanPoints, s?.jitter);
    this.meter = new SurpriseMeter(config.calibration, s?.meter, context?.windowMs, context?.slab);
  }

  update(point: SeriesPoint): Verdict {
    const s = this.s;
    const x = point.value;
    if (s.lastTs === null) {
      s.lastTs = point.ts;
      s.last = x;
      s.n = 1;
      this.jitter.push(x);
      return quiet(x, 'warming up');
    }
    const dt = point.ts - s.lastTs;
    const k = s.cadence > 0 && dt > s.cadence ? dt / s.cadence : 1;
    const step = x - s.last;
    const typical = this.jitter.value;
    const dev = Math.abs(step) / Math.max(typical, 1e-9 * Math.max(1, Math.abs(s.last))) / Math.sqrt(k);
    const surprise = s.n >= 3 ? this.meter.judge(dev) : 0;
    if (dt > 0) {
      const a = s.n <= this.config.spanPoints ? 1 / s.n : 1 / this.config.spanPoints;
      s.cadence = s.cadence === 0 ? dt : s.cadence + a * (dt - s.cadence);
    }
    const from = s.last;
    s.lastTs = Math.max(s.lastTs, point.ts);
    s.last = x;
    s.n++;
    this.jitter.push(x);
    const score = scoreFromSurprise(surprise, this.config.calibration.alarmSurprise);
    if (score < 0.3) return verdict(score, x, 'normal', surprise);
    return verdict(
      score,
      x,
      `${step > 0 ? 'jumped' : 'dropped'} from ${from.toPrecision(4)} to ${x.toPrecision(4)} in one step, ${dev.toFixed(1)}× the usual step`,
      surprise,
    );
  }

  snapshot(): State {
    return { ...this.s, jitter: this.jitter.snapshot(), meter: this.meter.snapshot() };
  }
}

export const createRateOfChange: DetectorFactory<RateOfChangeConfig> = (config, snapshot, context) =>
  new RateOfChange(config, snapshot, context);
