/**
 * The reference beside the fleet bench's drift delay: how soon could any detector find a
 * simulated drift, at a false-alarm rate far above the ensemble's?
 *
 * The oracle is told everything but the random parts: the sensor's level (baseline, daily cycle,
 * machine state, occupancy), the weather's law, and the drift's size and ramp length. It tests "a
 * drift of exactly this shape began at one of the last L windows" against "no drift" by the
 * likelihood ratio, maximised over the start (the GLR form of CUSUM, optimal in Lorden's sense).
 * It is run on two observations, each easier than the real one:
 *
 * - `weather`: the level is seen without measurement noise, so what hides the drift is only the
 *   weather's own innovation (the exact Ornstein-Uhlenbeck step from one window end to the next);
 * - `noise`: the level is known and has no weather, so what hides the drift is only the noise of
 *   the window's mean.
 *
 * Removing a source of noise cannot make the best detector slower, so the later of the two is
 * still no later than the best detector on the real readings. Its threshold is the quantile of the
 * statistic's largest value per clean series-day that gives a false alarm on the share of
 * series-days asked for.
 */
import type { Rng, SensorKind } from '@tributary/device-simulator';

export interface OracleDrift {
  readonly kind: SensorKind;
  readonly readingsPerWindow: number;
  /** The drift's full offset, in the sensor's unit, and its ramp length in windows (≥ 1). */
  readonly magnitude: number;
  readonly rampWindows: number;
  /** Where in its first window the drift begins, as a share of the window (0 ≤ x < 1). */
  readonly startInWindow: number;
}

const DAY_MS = 86_400_000;
const CALIBRATION_DAYS = 40;
const DRAWS = 9;

/** Median delay in windows (alert at a window's end, counted from the drift's start) over `DRAWS` draws of the noise. */
export function oracleDriftDelay(
  drift: OracleDrift,
  windowMs: number,
  rng: Rng,
  falseAlarmsPerSeriesDay = 0.5,
): number {
  const delays = (['weather', 'noise'] as const).map((observed) => {
    const profile = expectedShift(drift, windowMs, observed);
    if (profile === undefined) return 0;
    const threshold = falseAlarmThreshold(profile, rng, falseAlarmsPerSeriesDay, Math.round(DAY_MS / windowMs));
    return median(Array.from({ length: DRAWS }, () => firstAlarm(profile, threshold, rng)));
  });
  return Math.max(...delays) + 1 - drift.startInWindow;
}

/**
 * What the drift adds to each observation j windows after its start, in units of the observation's
 * noise; undefined when that noise is zero (the drift is then seen at once, and the other relaxation
 * decides). `weather`: the innovation x_j − a·x_{j−1} of the level at window ends; `noise`: the
 * window's mean.
 */
export function expectedShift(
  d: OracleDrift,
  windowMs: number,
  observed: 'weather' | 'noise',
): Float64Array | undefined {
  const L = d.rampWindows;
  const f = d.startInWindow;
  // The offset t windows after the start of the drift's first window (the ramp's length is L).
  const offsetAt = (t: number): number => d.magnitude * Math.min(1, Math.max(0, t - f) / L);
  const out = new Float64Array(L);
  if (observed === 'weather') {
    if (d.kind.weatherStd === 0) return undefined;
    const a = Math.exp(-windowMs / d.kind.weatherTauMs);
    const sigma = d.kind.weatherStd * Math.sqrt(1 - a * a);
    for (let j = 0; j < L; j++) out[j] = (offsetAt(j + 1) - a * offsetAt(j)) / sigma;
  } else {
    const sigma = d.kind.noise / Math.sqrt(d.readingsPerWindow);
    // The mean over window j; the first window holds the ramp for its last 1 − f only.
    for (let j = 0; j < L; j++) out[j] = (j === 0 ? (d.magnitude * (1 - f) ** 2) / (2 * L) : offsetAt(j + 0.5)) / sigma;
  }
  return out;
}

/**
 * One step of the GLR: `llr[c]` is the log-likelihood ratio of "the drift began c windows ago"
 * (c < L), kept in a ring; returns the largest. `age` counts the steps seen, so that no start
 * before the first step is considered.
 */
export function glrStep(profile: Float64Array, llr: Float64Array, age: number, y: number): number {
  const L = profile.length;
  const live = Math.min(age + 1, L);
  for (let c = live - 1; c > 0; c--) llr[c] = llr[c - 1]! + profile[c]! * y - (profile[c]! * profile[c]!) / 2;
  llr[0] = profile[0]! * y - (profile[0]! * profile[0]!) / 2;
  let best = -Infinity;
  for (let c = 0; c < live; c++) if (llr[c]! > best) best = llr[c]!;
  return best;
}

export function falseAlarmThreshold(profile: Float64Array, rng: Rng, share: number, windowsPerDay: number): number {
  const llr = new Float64Array(profile.length);
  const dayMaxima: number[] = [];
  const days = Math.max(CALIBRATION_DAYS, Math.ceil(20 / share));
  for (let day = 0, age = 0; day < days; day++) {
    let max = -Infinity;
    for (let w = 0; w < windowsPerDay; w++, age++) max = Math.max(max, glrStep(profile, llr, age, rng.normal()));
    dayMaxima.push(max);
  }
  dayMaxima.sort((a, b) => a - b);
  return dayMaxima[Math.min(days - 1, Math.floor(days * (1 - share)))]!;
}

/** Windows after the drift's first until the statistic reaches the threshold; the ramp's length when it never does (its end, a step back, is then seen at once). */
export function firstAlarm(profile: Float64Array, threshold: number, rng: Rng): number {
  const L = profile.length;
  const llr = new Float64Array(L);
  let age = 0;
  for (; age < L; age++) glrStep(profile, llr, age, rng.normal()); // clean history, so early starts compete too
  for (let j = 0; j < L; j++, age++) if (glrStep(profile, llr, age, rng.normal() + profile[j]!) >= threshold) return j;
  return L;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
