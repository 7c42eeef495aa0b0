import type { SeriesPoint } from './detector.js';

/** What a window's aggregate (count, mean, spread, min, max) tells about the readings in it. */

/**
 * Whether a window's readings look like noise around one level: both its excursions, in units of
 * its own spread, are about what the largest of `count` Gaussian readings gives (≈ √(2 ln n)).
 * A spike makes one side far larger; readings split between two levels make both sides small.
 */
export function looksLikeOneLevel(p: SeriesPoint): boolean {
  if (p.count < 4 || !(p.stddev > 0)) return false;
  // With few readings a spike cannot stand out in units of a spread it makes itself (of 5
  // readings, one lies at most 1.8 standard deviations out), but without it the rest is calm.
  if (spreadWithoutExtreme(p) < MIN_SPREAD_KEPT * p.stddev) return false;
  const lnN = Math.log(p.count);
  const expected = Math.sqrt(2 * lnN) - (Math.log(lnN) + Math.log(4 * Math.PI)) / (2 * Math.sqrt(2 * lnN));
  const up = (p.max - p.value) / p.stddev;
  const down = (p.value - p.min) / p.stddev;
  const lo = 0.45 * Math.max(expected, 0.8);
  const hi = 2.5 * Math.max(expected, 1);
  return up >= lo && up <= hi && down >= lo && down <= hi;
}

/**
 * Spread of the window without its reading farthest from the mean (the min or the max), from the
 * aggregate alone: taking x out of n readings takes (x − mean)² · n / (n − 1) off the sum of
 * squared deviations (Welford's update, backwards).
 */
export function spreadWithoutExtreme(p: SeriesPoint): number {
  const n = p.count;
  const far = Math.max(p.max - p.value, p.value - p.min);
  const sumSq = p.stddev * p.stddev * (n - 1) - (far * far * n) / (n - 1);
  return Math.sqrt(Math.max(0, sumSq) / (n - 2));
}

/**
 * Below this fraction of the window's spread without its most extreme reading, that one reading
 * made the spread: a spike or dip, not noise. Gaussian noise of 5 readings falls this low once in a
 * thousand windows (which are then only not learnt from); of 60, never.
 */
const MIN_SPREAD_KEPT = 0.1;
