import type { Rng } from './rng.js';
import type { SensorKind } from './signals.js';

export const anomalyKinds = ['spike', 'level-shift'] as const;
export type AnomalyKind = (typeof anomalyKinds)[number];

/**
 * One injected anomaly, as written to the ground-truth file (one JSON line each): which series,
 * what kind, from `start` to `end` (event time, ms, both inclusive; a spike has start = end) and
 * the offset added to the readings.
 */
export interface GroundTruth {
  readonly device: string;
  readonly metric: string;
  readonly kind: AnomalyKind;
  readonly start: number;
  readonly end: number;
  readonly magnitude: number;
}

export interface AnomalyPlan {
  /** Expected anomalies per series per simulated day. */
  readonly ratePerDay: number;
  readonly kinds: readonly AnomalyKind[];
  /** No anomaly before start + warmupMs, so detectors have a baseline to compare against. */
  readonly warmupMs: number;
  /** Quiet time kept between two anomalies of one series, so each can be told apart. */
  readonly gapMs: number;
}

const MINUTE = 60_000;

/**
 * Plans the anomalies of one series over [start, end): a Poisson process of rate `ratePerDay`,
 * each snapped to the device's sample grid (`offset + k · period`) so a spike hits a real reading.
 */
export function planAnomalies(rng: Rng, device: string, kind: SensorKind, sampling: { start: number; end: number; offsetMs: number; periodMs: number }, plan: AnomalyPlan): GroundTruth[] {
  const out: GroundTruth[] = [];
  if (plan.ratePerDay <= 0 || plan.kinds.length === 0) return out;
  const meanGapMs = 86_400_000 / plan.ratePerDay;
  let t = sampling.start + plan.warmupMs;
  for (;;) {
    t += -Math.log(1 - rng.next()) * meanGapMs;
    const k = Math.ceil((t - sampling.start - sampling.offsetMs) / sampling.periodMs);
    const start = sampling.start + sampling.offsetMs + k * sampling.periodMs;
    const anomaly = rng.pick(plan.kinds);
    const sign = rng.chance(0.5) ? 1 : -1;
    let end = start;
    let magnitude: number;
    if (anomaly === 'spike') {
      magnitude = sign * kind.spikeMagnitude * rng.uniform(0.8, 1.5);
    } else {
      magnitude = sign * kind.shiftMagnitude * rng.uniform(0.8, 1.3);
      const samples = Math.max(1, Math.round((rng.uniform(30, 120) * MINUTE) / sampling.periodMs));
      end = start + (samples - 1) * sampling.periodMs;
    }
    if (end >= sampling.end) break;
    out.push({ device, metric: kind.metric, kind: anomaly, start, end, magnitude: Number(magnitude.toFixed(3)) });
    t = end + plan.gapMs;
  }
  return out;
}

/** The offset the anomalies of one series add at event time `ts` (0 when none is active). */
export function anomalyOffset(anomalies: readonly GroundTruth[], ts: number): number {
  for (const a of anomalies) if (ts >= a.start && ts <= a.end) return a.magnitude;
  return 0;
}
