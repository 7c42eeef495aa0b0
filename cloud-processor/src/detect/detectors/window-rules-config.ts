import { z } from 'zod';

/** The window rules' settings (window-rules.ts). */
export const WindowRulesConfig = z.object({
  /**
   * How far back the windows that define the usual excursion, step and spread reach (25 h, so
   * yesterday's same hour is in; in windows of the series' own length, 8 to 1,500 of them): the
   * envelope's extremes over this long (to the hour), the rest from a sketch whose weights fade with
   * the same effective sample size (stats/recent-values.ts).
   */
  historyMs: z.number().int().positive().default(90_000_000),
  /** History a series must have before a rule may fire (an hour; at least 4 windows). */
  warmupMs: z.number().int().min(0).default(3_600_000),
  /**
   * How far beyond the upper envelope (the 99th percentile) of its own recent values an excursion
   * (max − mean, mean − min) or a step of the mean must lie to be a fault, in robust standard
   * deviations of those values. Judging against the envelope, not the median, lets patterns that
   * recur (a morning ramp) stay normal.
   */
  zThreshold: z.number().positive().default(8),
  /** The same for a single reading's excursion (max − mean, mean − min), whose natural spread is tighter. */
  excursionZ: z.number().positive().default(8),
  /**
   * For a series whose excursions have been as narrow as Gaussian noise gives: the rate, per window
   * and side, at which such noise would pass the alarm. 0 judges every series by its envelope alone.
   */
  lightTailAlarmRate: z.number().min(0).max(0.01).default(1e-6),
  /**
   * A window's standard deviation, of all but its farthest reading (one far reading is a spike, not a
   * burst), this many times the usual one at its level is a noise burst.
   */
  burstRatio: z.number().min(1).default(3.5),
  /**
   * For a series of fewer readings a window than `stuckMinReadings` (an environment sensor's one at
   * 60-s windows, a machine temperature's two), whose windows have no spread worth judging: how far
   * back its steps from reading to reading are gathered, their scatter about their median judged
   * against its usual at `burstRatio` (window-rules-scatter.ts). The shortest noise burst worth
   * telling (a loose connector's, minutes long) fills it; a spike is a step or two of it.
   */
  burstSpanMs: z.number().int().positive().default(600_000),
  /**
   * Consecutive windows of identical readings (min = max) that make a stuck sensor, for a series
   * whose windows are never all identical otherwise. One whose readings are coarsely quantised (a
   * DS18B20's 0.0625 °C steps) has such runs in its normal life: it needs a run rarer than one in a
   * million windows at its rate of them, and more than twice its longest recent one (identical-runs.ts).
   */
  stuckWindows: z.number().int().min(1).default(1),
  /** Readings a window needs for "all identical" to mean stuck. */
  stuckMinReadings: z.number().int().min(2).default(4),
  /** Missing windows (in the series' own cadence) that make a dropout, judged by `tick`. */
  gapCadences: z.number().min(1).default(2),
  /** Surprise a rule reports exactly at its threshold (the ensemble's alarm level). */
  alarmSurprise: z.number().positive().default(4),
});
export type WindowRulesConfig = z.output<typeof WindowRulesConfig>;
