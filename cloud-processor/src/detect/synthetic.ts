/**
 * Seeded synthetic series for the detectors' tests: window aggregates of a sensor (mean, min,
 * max, stddev, count over `readingsPerWindow` readings) with a daily cycle, noise and injected
 * faults. Deterministic for a seed, so every test run sees the same series.
 */
import type { SeriesPoint } from './detector.js';

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviates (Box–Muller) from a uniform source. */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

export interface SensorSpec {
  seed: number;
  windows: number;
  /** Window length in ms (one point per window). */
  windowMs?: number;
  readingsPerWindow?: number;
  base?: number;
  /** Amplitude of the daily cycle (0 for none). */
  dailyAmplitude?: number;
  /** Noise σ of each reading. */
  noise?: number;
  /** Weather: a mean-reverting random walk (Ornstein-Uhlenbeck) of this stationary σ and correlation time, stepped per reading. */
  weather?: { std: number; tauMs: number };
  /** Changes one reading: (window index, reading index, clean value) → value. */
  fault?: (w: number, r: number, x: number) => number;
  /** Windows left out entirely (a dropout). */
  missing?: (w: number) => boolean;
}

export const DAY_MS = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

/** Window aggregates of a noisy daily-cycle sensor, faults applied to the readings. */
export function sensorWindows(spec: SensorSpec): SeriesPoint[] {
  const windowMs = spec.windowMs ?? 300_000;
  const k = spec.readingsPerWindow ?? 10;
  const noise = gaussian(prng(spec.seed));
  const walk = gaussian(prng(spec.seed + 7919));
  const keep = spec.weather ? Math.exp(-windowMs / k / spec.weather.tauMs) : 0;
  let weather = 0;
  const out: SeriesPoint[] = [];
  for (let w = 0; w < spec.windows; w++) {
    if (spec.missing?.(w)) continue;
    let sum = 0;
    let sq = 0;
    let min = Infinity;
    let max = -Infinity;
    let first = Number.NaN;
    let last = Number.NaN;
    for (let r = 0; r < k; r++) {
      const t = T0 + w * windowMs + (r * windowMs) / k;
      if (spec.weather) weather = keep * weather + spec.weather.std * Math.sqrt(1 - keep * keep) * walk();
      const clean =
        (spec.base ?? 20) +
        weather +
        (spec.dailyAmplitude ?? 0) * Math.sin((2 * Math.PI * t) / DAY_MS) +
        (spec.noise ?? 0.2) * noise();
      const x = spec.fault ? spec.fault(w, r, clean) : clean;
      sum += x;
      sq += x * x;
      if (x < min) min = x;
      if (x > max) max = x;
      if (r === 0) first = x;
      last = x;
    }
    const mean = sum / k;
    const variance = k > 1 ? Math.max(0, (sq - k * mean * mean) / (k - 1)) : 0;
    out.push({
      ts: T0 + (w + 1) * windowMs,
      value: mean,
      min,
      max,
      stddev: Math.sqrt(variance),
      count: k,
      first,
      last,
    });
  }
  return out;
}

/** Raw rows (count 1) of white noise or a noisy daily cycle, as a NAB file would give them. */
export function rawSeries(
  seed: number,
  n: number,
  opts: { spacingMs?: number; dailyAmplitude?: number; noise?: number; base?: number } = {},
): SeriesPoint[] {
  const noise = gaussian(prng(seed));
  const spacing = opts.spacingMs ?? 300_000;
  const out: SeriesPoint[] = [];
  for (let i = 0; i < n; i++) {
    const ts = T0 + i * spacing;
    const v =
      (opts.base ?? 50) +
      (opts.dailyAmplitude ?? 0) * Math.sin((2 * Math.PI * ts) / DAY_MS) +
      (opts.noise ?? 1) * noise();
    out.push({ ts, value: v, min: v, max: v, stddev: 0, count: 1 });
  }
  return out;
}
