import { MAD_TO_SIGMA, type SeriesPoint } from '../detector.js';
import type { ExcursionLaw } from '../stats/gaussian-tail.js';
import type { RecentValues } from '../stats/recent-values.js';

// The arithmetic of the window rules (window-rules.ts): a trend inside a window, and how far a
// window's features lie beyond the series' usual ones.

/**
 * The sample variance (n − 1 in the denominator, as a window's stddev) of n readings evenly spaced
 * on a line that rises by `ramp` from the first to the last: ramp² · n(n + 1) / (12 (n − 1)²).
 */
export function rampVariance(ramp: number, n: number): number {
  return n < 2 ? 0 : (ramp * ramp * n * (n + 1)) / (12 * (n - 1) * (n - 1));
}

/**
 * The readings' own spread in a window whose first and last readings differ by `endToEnd`, read
 * as a line plus noise σ: the sample variance is c·D² + σ² (c = rampVariance(1, n)), and the ends
 * carry the noise too, so endToEnd² is D² + 2σ² on average. Solved for σ (a burst whose first and
 * last readings happen to lie at opposite extremes keeps most of its spread).
 */
export function noiseBesideRamp(stddev: number, endToEnd: number, n: number): number {
  // Two readings are their own ends: they cannot tell a line from noise.
  if (n <= 2) return stddev;
  const c = rampVariance(1, n);
  return Math.sqrt(Math.max(0, (stddev * stddev - c * endToEnd * endToEnd) / (1 - 2 * c)));
}

/** The difference of two readings that noise alone gives (3 σ of a difference of two). */
export const RAMP_NOISE = 3 * Math.SQRT2;

/**
 * How much of a window's `extreme` (its min, below the mean, or its max, above) a ramp from its
 * first to its last reading explains: as far as the end on the other side lies beyond the mean, up
 * to half the ramp.
 */
export function rampCredit(ramp: number, p: SeriesPoint, extreme: 'min' | 'max'): number {
  const otherEnd = extreme === 'min' ? Math.max(p.first!, p.last!) - p.value : p.value - Math.min(p.first!, p.last!);
  return Math.min(ramp / 2, Math.max(0, otherEnd));
}

/**
 * Whether a window's readings show the ramp that would explain its `extreme`. Where the extreme is
 * itself an end reading, the ramp rests on that reading (a dip at a window's edge is most of the
 * difference between its ends), and only the other readings can tell a trend: without the extreme,
 * they must spread as noise and a line RAMP_NOISE σ tall do (a dip at the end of a level leaves them
 * the level's noise alone: once in a thousand windows of twelve they spread that much by chance).
 * The Gaussian law asks it (a vibration dip that was its window's last reading, the first 2 σ above
 * the mean by chance, was forgiven 2 σ of its depth and missed); the envelope, which learnt its
 * history from the ends alone, reads the ramp from them still.
 */
export function rampShown(p: SeriesPoint, extreme: 'min' | 'max', sigma: number): boolean {
  const x = extreme === 'min' ? p.min : p.max;
  if (p.count <= 2 || x !== (extreme === 'min' ? Math.min(p.first!, p.last!) : Math.max(p.first!, p.last!)))
    return true;
  const others = spreadWithout(p.stddev, Math.abs(p.value - x), p.count);
  return others * others - sigma * sigma >= rampVariance(RAMP_NOISE * sigma, p.count - 1);
}

/** Ordinary windows seen before a series' tails are judged. */
export const LIGHT_TAIL_HISTORY = 100;

/**
 * Whether the held excursions are no wider than Gaussian noise gives (their 90th and 99th
 * percentiles no further out than the law's, give or take what 100-300 windows tell), so that the
 * law may judge how rare the next one is. Heavier tails (a sensor whose noise has bursts, a level
 * that wanders within windows) fail, and are judged by their own envelope only.
 */
export function lightTailed(h: RecentValues, law: ExcursionLaw): boolean {
  return h.quantile(0.9) <= law.p90 + 0.25 && h.quantile(0.99) <= law.p99 + 0.35;
}

/**
 * The noise the Gaussian law judges a window's excursions by: its level's (`sigma`), but no less than
 * the series' usual spread (the median of its ordinary windows'). A level is born with the spread of
 * its first window and learns its own over tens of windows (stats/regimes.ts): a thermometer of
 * noise 0.08 met a new level at 0.035, and read a reading 2.4σ off its window's mean as 5.3σ. A
 * machine's running level keeps its own where it is the noisier (its noise is the larger), and a
 * level quieter than the series' usual is judged as if it were not (no alarm it would not raise).
 */
export function lawSigma(sigma: number, spread: RecentValues): number {
  return spread.length > 0 ? Math.max(sigma, spread.median()) : sigma;
}

/**
 * How far x lies beyond the upper envelope (99th percentile) of the held values, in robust
 * standard deviations of them (never dividing by a zero spread); 0 inside the envelope. With
 * `eitherWay`, beyond the largest of them either way (x a size: steps up and down alike).
 */
export function beyondEnvelope(h: RecentValues, x: number, eitherWay = false): number {
  if (h.length === 0) return 0;
  // Inside the envelope (most windows) neither the edge nor the spread is needed: the MAD is a
  // bisection of ~20 log2s, the largest cost of the window rules, and the edge a walk of the
  // stretches that `reaches` mostly cuts short. (A NaN spread, had there been one, gave NaN here,
  // which the callers' `>= 1` reads as the 0 returned.)
  if (h.reaches(x, eitherWay)) return 0;
  const edge = eitherWay ? Math.max(h.quantile(1), -h.quantile(0)) : h.quantile(1);
  const median = h.median();
  const spread = Math.max(
    MAD_TO_SIGMA * h.mad(median),
    (h.quantile(0.9) - h.quantile(0.1)) / 2.5631,
    1e-9 * Math.max(1, Math.abs(median)),
  );
  return Math.max(0, (x - edge) / spread);
}

/**
 * The standard deviation of a window's readings without the one farthest from their mean (its max
 * or min), from the aggregates alone: removing x from n readings of mean m takes (x − m)² · n/(n − 1)
 * from their sum of squared deviations. A noise burst scatters many readings; one far reading is a
 * spike or dip, for the excursion rules to judge against their own envelope. Of few readings (six
 * in a minute) one heavy-tailed reading would otherwise triple the spread.
 */
export function spreadWithoutFarthest(stddev: number, mean: number, min: number, max: number, n: number): number {
  return n <= 2 ? stddev : spreadWithout(stddev, Math.max(max - mean, mean - min), n);
}

/** The standard deviation of n readings without one of them, `distance` from their mean (n > 2). */
function spreadWithout(stddev: number, distance: number, n: number): number {
  const squares = stddev * stddev * (n - 1) - (distance * distance * n) / (n - 1);
  return Math.sqrt(Math.max(0, squares) / (n - 2));
}
