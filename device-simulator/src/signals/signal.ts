import type { Rng } from '../rng.js';
import { OCCUPANCY_TAU_MS, type SensorKind } from './kinds.js';
import type { MachineSchedule } from './machine.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** One device's instance of a sensor kind: its own baseline, phase, drift and random streams. */
export class Signal {
  readonly baseline: number;
  /** Shifts this device's daily peak by up to ±1 h, so devices are not in lockstep. */
  readonly phaseMs: number;
  /** Sensor ageing, units per ms. */
  readonly driftPerMs: number;
  /** Level added while the machine runs or the room is fully occupied. */
  readonly activeLevel: number;
  /** Office hours of this device's room (UTC hours), for occupancy-driven kinds. */
  readonly officeHours: readonly [number, number];
  private weather: number;
  private readonly weatherKeep: number;
  private readonly weatherStep: number;

  /**
   * `periodMs` is the sample period: `sample` must then be called once per sample, in time order,
   * because the weather walk and the noise advance one step per call.
   */
  constructor(
    readonly kind: SensorKind,
    params: Rng,
    private readonly weatherRng: Rng,
    private readonly noiseRng: Rng,
    private readonly startMs: number,
    periodMs: number,
    private readonly machine: MachineSchedule | undefined,
  ) {
    this.baseline = params.uniform(kind.baseline[0], kind.baseline[1]);
    this.phaseMs = params.uniform(-HOUR_MS, HOUR_MS);
    this.driftPerMs = params.uniform(-kind.maxDriftPerDay, kind.maxDriftPerDay) / DAY_MS;
    this.activeLevel = kind.driver ? params.uniform(kind.driver.activeLevel[0], kind.driver.activeLevel[1]) : 0;
    this.officeHours = [params.uniform(7, 9), params.uniform(17, 19)];
    // Ornstein-Uhlenbeck, exact discretisation: x' = a·x + σ·√(1 − a²)·N(0, 1).
    this.weatherKeep = Math.exp(-periodMs / kind.weatherTauMs);
    this.weatherStep = kind.weatherStd * Math.sqrt(1 - this.weatherKeep * this.weatherKeep);
    this.weather = kind.weatherStd * weatherRng.normal();
  }

  /** Whether the driving machine runs at `ts` (always true for kinds without one). */
  active(ts: number): boolean {
    return this.kind.driver?.type !== 'machine' || this.machine === undefined || this.machine.isOnAt(ts);
  }

  /** The noiseless level at `ts` given the current weather state. Same call-order rule as `sample`. */
  level(ts: number): number {
    return this.levelAt(ts, this.active(ts));
  }

  /** The next reading (before anomalies, range clamp and quantisation); advances weather and noise. */
  sample(ts: number): number {
    const on = this.active(ts);
    const level = this.levelAt(ts, on);
    if (this.weatherStep !== 0)
      this.weather = this.weatherKeep * this.weather + this.weatherStep * this.weatherRng.normal();
    const sigma = this.kind.driver && !on ? this.kind.driver.idleNoise : this.kind.noise;
    return level + sigma * this.noiseRng.normal();
  }

  private levelAt(ts: number, on: boolean): number {
    const { kind } = this;
    let v = this.baseline + this.weather + this.driftPerMs * (ts - this.startMs);
    if (kind.dailyAmplitude !== 0) {
      const dayFraction = ((((ts - kind.peakHour * HOUR_MS - this.phaseMs) % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS;
      v += kind.dailyAmplitude * Math.cos(2 * Math.PI * dayFraction);
    }
    if (kind.driver?.type === 'machine') {
      if (on) v += this.activeLevel;
    } else if (kind.driver?.type === 'occupancy') {
      v += this.activeLevel * occupancy(ts, this.officeHours);
    }
    return v;
  }
}

/**
 * Share of the full occupancy level at `ts`: builds up from the start of office hours with the
 * ventilation time constant and decays after; none at weekends (UTC).
 */
export function occupancy(ts: number, [inHour, outHour]: readonly [number, number]): number {
  const day = Math.floor(ts / DAY_MS);
  const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday (4)
  if (weekday === 0 || weekday === 6) return 0;
  const t = ts - day * DAY_MS;
  const tIn = inHour * HOUR_MS;
  const tOut = outHour * HOUR_MS;
  if (t < tIn) return 0;
  if (t <= tOut) return 1 - Math.exp(-(t - tIn) / OCCUPANCY_TAU_MS);
  return (1 - Math.exp(-(tOut - tIn) / OCCUPANCY_TAU_MS)) * Math.exp(-(t - tOut) / OCCUPANCY_TAU_MS);
}

/** Clamps to the physical range, as a real sensor saturates. */
export function clampToRange(value: number, kind: SensorKind): number {
  return Math.min(kind.range.max, Math.max(kind.range.min, value));
}

/**
 * Rounds to the ADC's resolution. With a quantum of 1/k (0.01, 0.1, 1) it is round(v·k)/k, which is
 * the double nearest the decimal (21.349999 → 21.35, printed as such); other quanta go through toFixed.
 */
export function quantise(value: number, quantum: number): number {
  const k = Math.round(1 / quantum);
  if (Math.abs(k * quantum - 1) < 1e-12) return Math.round(value * k) / k;
  const decimals = Math.max(0, Math.ceil(-Math.log10(quantum) - 1e-9));
  return Number((Math.round(value / quantum) * quantum).toFixed(decimals));
}
