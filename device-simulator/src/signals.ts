import type { Rng } from './rng.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * A sensor kind: physical unit and range, and how its readings behave. Values are
 * baseline + daily cycle + noise, quantised like the device's ADC.
 */
export interface SensorKind {
  readonly metric: string;
  readonly unit: string;
  /** Physically plausible range; the agent's range filter uses it. */
  readonly range: { readonly min: number; readonly max: number };
  /** Per-device baseline is drawn uniformly from this interval. */
  readonly baseline: readonly [number, number];
  /** Peak-to-mean amplitude of the daily cycle (negative: lowest in the afternoon). */
  readonly dailyAmplitude: number;
  /** Hour of day at which the cycle peaks. */
  readonly peakHour: number;
  /** Standard deviation of the measurement noise. */
  readonly noise: number;
  /** ADC resolution: readings are multiples of it. */
  readonly quantum: number;
  /** Typical size of an injected spike and level shift. */
  readonly spikeMagnitude: number;
  readonly shiftMagnitude: number;
}

export const sensorKinds: Readonly<Record<string, SensorKind>> = {
  temperature: { metric: 'temperature', unit: '°C', range: { min: -40, max: 85 }, baseline: [18, 24], dailyAmplitude: 4, peakHour: 15, noise: 0.15, quantum: 0.01, spikeMagnitude: 6, shiftMagnitude: 3 },
  humidity: { metric: 'humidity', unit: '%RH', range: { min: 0, max: 100 }, baseline: [35, 55], dailyAmplitude: -8, peakHour: 15, noise: 0.6, quantum: 0.1, spikeMagnitude: 20, shiftMagnitude: 10 },
  vibration: { metric: 'vibration', unit: 'mm/s', range: { min: 0, max: 50 }, baseline: [3, 6], dailyAmplitude: 0.5, peakHour: 12, noise: 0.3, quantum: 0.01, spikeMagnitude: 8, shiftMagnitude: 3 },
};

/** One device's instance of a sensor kind: its own baseline and phase. */
export interface Signal {
  readonly kind: SensorKind;
  readonly baseline: number;
  /** Shifts this device's daily peak by up to ±1 h, so devices are not in lockstep. */
  readonly phaseMs: number;
}

export function createSignal(kind: SensorKind, rng: Rng): Signal {
  return { kind, baseline: rng.uniform(kind.baseline[0], kind.baseline[1]), phaseMs: rng.uniform(-HOUR_MS, HOUR_MS) };
}

/** The noiseless value at event time `ts` (ms since the epoch, UTC). */
export function expectedValue(signal: Signal, ts: number): number {
  const { kind } = signal;
  const dayFraction = (((ts - kind.peakHour * HOUR_MS - signal.phaseMs) % DAY_MS) + DAY_MS) % DAY_MS / DAY_MS;
  return signal.baseline + kind.dailyAmplitude * Math.cos(2 * Math.PI * dayFraction);
}

export function quantise(value: number, quantum: number): number {
  // toFixed keeps float noise out of the wire format (21.349999999 → 21.35).
  const decimals = Math.max(0, Math.ceil(-Math.log10(quantum)));
  return Number((Math.round(value / quantum) * quantum).toFixed(decimals));
}

/** Clamps to the physical range, as a real sensor saturates. */
export function clampToRange(value: number, kind: SensorKind): number {
  return Math.min(kind.range.max, Math.max(kind.range.min, value));
}
