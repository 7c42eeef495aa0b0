import type { SeriesPoint } from '../detector.js';
import { normalTail } from './gaussian-tail.js';

/** What a window's aggregate (count, mean, spread, min, max) tells about the readings in it. */

/**
 * Whether a window's readings look like noise around one level: both its excursions, in units of
 * its own spread, are about what the largest of `count` Gaussian readings gives (≈ √(2 ln n)).
 * A spike makes one side far larger; readings split between two levels make both sides small.
 * `step` is a quantised sensor's step, when known (QuantumEstimate).
 */
export function looksLikeOneLevel(p: SeriesPoint, step = 0): boolean {
  if (p.count < 4 || !(p.stddev > 0)) return false;
  // Readings at two neighbouring steps of a coarsely quantised sensor are one level however they
  // split: four at one step and one at the next is no dip.
  if (p.max - p.min <= NEIGHBOUR_STEPS * step) return true;
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

/** Up to this many steps apart, a window's min and max are neighbouring steps of its quantisation. */
const NEIGHBOUR_STEPS = 1.5;

/**
 * max − min of a window whose readings take exactly two values, else undefined; from the
 * aggregate alone: with j of n readings at the max, the mean is min + d·j/n and the variance
 * d²·j(n − j)/(n(n − 1)), and continuous readings match both to a millionth only by a fluke. Such
 * windows come from a sensor that rounds to steps coarse beside its noise, and the smallest of
 * their spreads is the step.
 */
export function twoValuedSpread(p: SeriesPoint): number | undefined {
  const n = p.count;
  const d = p.max - p.min;
  if (n < 3 || !(d > 0)) return undefined;
  const j = (n * (p.value - p.min)) / d;
  const k = Math.round(j);
  if (k < 1 || k > n - 1 || Math.abs(j - k) > TWO_VALUED_TOLERANCE * n) return undefined;
  const variance = (d * d * k * (n - k)) / (n * (n - 1));
  return Math.abs(p.stddev * p.stddev - variance) <= TWO_VALUED_TOLERANCE * variance ? d : undefined;
}

const TWO_VALUED_TOLERANCE = 1e-6;

/**
 * A sensor's quantisation step, learnt from its windows of two values: the smallest such spread,
 * once seen in QUANTUM_SEEN windows. A sensor with fine steps also has a window of two values now
 * and then (four readings alike by chance), each of some other spread; a coarse one has many, one
 * step apart. 0 while unknown.
 */
export class QuantumEstimate {
  private spread: number;
  private seen: number;

  constructor(state?: QuantumState) {
    this.spread = state?.spread ?? 0;
    this.seen = state?.seen ?? 0;
  }

  get step(): number {
    return this.seen >= QUANTUM_SEEN ? this.spread : 0;
  }

  see(p: SeriesPoint): void {
    const d = twoValuedSpread(p);
    if (d === undefined) return;
    if (this.seen > 0 && Math.abs(d - this.spread) <= TWO_VALUED_TOLERANCE * d) this.seen++;
    else if (this.seen === 0 || d < this.spread) {
      this.spread = d;
      this.seen = 1;
    }
  }

  snapshot(): QuantumState {
    return { spread: this.spread, seen: this.seen };
  }
}

export interface QuantumState {
  spread: number;
  seen: number;
}

const QUANTUM_SEEN = 2;

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

/**
 * The chance that all `count` readings of a window are identical, for Gaussian noise of σ `noise`
 * read by a sensor that rounds to multiples of `step`, at a level in the middle of a step, where it
 * is highest (a level that stays there makes such windows come in runs). For 5 readings: about 0.5
 * for a DS18B20 (step 0.0625 °C) with σ 0.02 °C, 0.01 with σ one step, 1e-4 with three, 3e-6 with
 * eight; for 20 readings with σ one step, 5e-9.
 */
export function chanceOfIdenticalWindow(count: number, noise: number, step: number): number {
  if (!(step > 0) || !(noise > 0)) return 0;
  const s = noise / step;
  // Many steps per σ: the sum is the integral of the density to the power n (and tiny).
  if (s > 4) return (s * Math.sqrt(2 * Math.PI)) ** (1 - count) / Math.sqrt(count);
  const reach = Math.ceil(6 * s) + 1;
  let sum = 0;
  for (let k = -reach; k <= reach; k++) sum += (normalTail((k - 0.5) / s) - normalTail((k + 0.5) / s)) ** count;
  return sum;
}
