import { z } from 'zod';
import {
  quiet,
  QUIET_SILENCE,
  scoreFromSurprise,
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

export const MissingConfig = z.object({
  /** Recent intervals whose median is the series' usual cadence. */
  cadenceSamples: z.number().int().min(3).max(1_000).default(32),
  /** A silence shorter than this many cadences is never reported, however regular the series. */
  minGapCadences: z.number().min(1).default(3),
  /**
   * When a gap is reported: by `tick` only (a clock asks while the series is silent; the point
   * that ends the silence is then old news), or also by the `update` that ends it (for replays
   * that feed points without a clock).
   */
  reportOn: z.enum(['tick', 'tick-and-update']).default('tick-and-update'),
  calibration: CalibrationConfig.prefault({ warmupMs: 7_200_000 }),
});
export type MissingConfig = z.output<typeof MissingConfig>;

interface State {
  lastTs: number | null;
  intervals: number[];
  meter: SurpriseMeterState;
}

function formatMs(ms: number): string {
  if (ms < 120_000) return `${(ms / 1000).toFixed(0)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(0)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/**
 * Missing data: a series that goes silent, judged by its own cadence (the median of its recent
 * intervals). Each interval, in cadences, is calibrated against the intervals the series had
 * before, so a sensor that reports every minute is flagged after a few silent minutes while an
 * irregular one is given the slack it usually takes. `update` reports a gap when data resumes;
 * `tick(now)` answers "is this series overdue at `now`?" without changing any state.
 */
class Missing implements Detector {
  private lastTs: number | null;
  private readonly intervals: SortedWindow;
  private readonly meter: SurpriseMeter;

  constructor(
    private readonly config: MissingConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    this.lastTs = s?.lastTs ?? null;
    // Both arrays in one buffer (stats/slab.ts).
    const slab = context?.slab ?? new Slab();
    this.intervals = new SortedWindow(config.cadenceSamples, s?.intervals, 64, slab);
    this.meter = new SurpriseMeter(config.calibration, s?.meter, context?.windowMs, slab);
  }

  /** The surprise of a gap (no object per call: a silent series is asked at every boundary); its cadence is `intervals.median()`. */
  private judge(gapMs: number, learn: boolean): number {
    const cadence = this.intervals.median();
    if (!(cadence > 0)) return 0;
    const ratio = gapMs / cadence;
    const reported = ratio >= this.config.minGapCadences;
    // A peek changes nothing: at a gap too short to report (most boundaries) it is not asked.
    if (!learn) return reported ? this.meter.peek(ratio) : 0;
    const s = this.meter.judge(ratio);
    return reported ? s : 0;
  }

  update(point: SeriesPoint): Verdict {
    const last = this.lastTs;
    this.lastTs = last === null ? point.ts : Math.max(last, point.ts);
    if (last === null || point.ts <= last) return quiet(point.value); // repeated or late timestamps are no gap
    const gap = point.ts - last;
    const judged = this.intervals.length >= 3;
    const surprise = judged ? this.judge(gap, true) : 0;
    // The cadence the gap was judged against, read before the gap joins the intervals.
    const cadence = judged ? this.intervals.median() : 0;
    this.intervals.push(gap);
    if (this.config.reportOn === 'tick') return verdict(0, point.value, 'normal', 0);
    const score = scoreFromSurprise(surprise, this.config.calibration.alarmSurprise);
    if (score < 0.3) return verdict(score, point.value, 'normal', surprise);
    return verdict(
      score,
      point.value,
      `data resumed after ${formatMs(gap)} of silence (usually every ${formatMs(cadence)})`,
      surprise,
    );
  }

  /** The series spoke with no value (every reading out of range): a point for its cadence, as `update`. */
  heard(ts: number): void {
    this.update({ ts, value: Number.NaN, min: Number.NaN, max: Number.NaN, stddev: Number.NaN, count: 0 });
  }

  tick(now: number): Verdict {
    if (this.lastTs === null || now <= this.lastTs || this.intervals.length < 3) return QUIET_SILENCE;
    const gap = now - this.lastTs;
    const surprise = this.judge(gap, false);
    const score = scoreFromSurprise(surprise, this.config.calibration.alarmSurprise);
    if (score < 0.3) return verdict(score, Number.NaN, 'normal', surprise);
    return verdict(
      score,
      Number.NaN,
      `no data for ${formatMs(gap)} (usually every ${formatMs(this.intervals.median())})`,
      surprise,
    );
  }

  snapshot(): State {
    return { lastTs: this.lastTs, intervals: this.intervals.toArray(), meter: this.meter.snapshot() };
  }
}

export const createMissing: DetectorFactory<MissingConfig> = (config, snapshot, context) =>
  new Missing(config, snapshot, context);
