import { ANOMALY_KINDS, type AnomalyKindName } from '@tributary/firmware-schemas';
import type { Rng } from '../rng.js';
import type { SensorKind } from '../signals/kinds.js';

export type AnomalyKind = AnomalyKindName;
/** Every kind the simulator can inject. */
export const anomalyKinds: readonly AnomalyKind[] = ANOMALY_KINDS;
/** What a fleet injects unless told otherwise (the end-to-end tests rely on this default). */
export const defaultAnomalyKinds: readonly AnomalyKind[] = ['spike', 'level-shift'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** An anomaly being applied to a series; `held` is the frozen value of a stuck sensor. */
export interface ActiveAnomaly {
  readonly kind: AnomalyKind;
  /** Simulated (true) time, on the series' sample grid, both inclusive. */
  readonly start: number;
  readonly end: number;
  readonly magnitude: number;
  held?: number;
}

/**
 * How one anomaly kind looks. `samples` draws its length in readings; `magnitude` its size in the
 * sensor's unit (what the ground truth records); `apply` turns a clean reading into the anomalous
 * one. `stuck` and `dropout` are handled by the device (a held value; no message at all).
 */
export interface AnomalyModel {
  /** Silences the whole device, so it is planned apart from every anomaly of the device. */
  readonly deviceWide: boolean;
  /** May happen while the machine a vibration or current sensor watches is off (else: only while it runs). */
  readonly anyMachineState: boolean;
  samples(rng: Rng, periodMs: number): number;
  magnitude(rng: Rng, kind: SensorKind): number;
  apply(clean: number, ts: number, a: ActiveAnomaly, noise: Rng): number;
}

const sign = (rng: Rng): number => (rng.chance(0.5) ? 1 : -1);
/** Readings in a span of `minMs`–`maxMs` at `periodMs`, and at least `atLeast`. */
const span = (rng: Rng, periodMs: number, minMs: number, maxMs: number, atLeast: number): number =>
  Math.max(atLeast, Math.round(rng.uniform(minMs, maxMs) / periodMs));
const add = (clean: number, _ts: number, a: ActiveAnomaly): number => clean + a.magnitude;

/** The one table of anomaly kinds. */
export const anomalyModels: Readonly<Record<AnomalyKind, AnomalyModel>> = {
  /** One reading far above the signal. */
  spike: {
    deviceWide: false,
    anyMachineState: true,
    samples: () => 1,
    magnitude: (rng, k) => k.spike * rng.uniform(0.8, 1.5),
    apply: add,
  },
  /** One reading far below the signal. */
  dip: {
    deviceWide: false,
    anyMachineState: false,
    samples: () => 1,
    magnitude: (rng, k) => -k.dip * rng.uniform(0.8, 1.2),
    apply: add,
  },
  /** A constant offset for 30-120 minutes (a knocked sensor, a changed load). */
  'level-shift': {
    deviceWide: false,
    anyMachineState: false,
    samples: (rng, p) => span(rng, p, 30 * MINUTE, 2 * HOUR, 3),
    magnitude: (rng, k) => sign(rng) * k.shift * rng.uniform(0.8, 1.3),
    apply: add,
  },
  /** An offset growing linearly from 0 to `magnitude` over 2-5 hours (a fouled or failing sensor). */
  drift: {
    deviceWide: false,
    anyMachineState: false,
    samples: (rng, p) => span(rng, p, 2 * HOUR, 5 * HOUR, 8),
    magnitude: (rng, k) => sign(rng) * k.drift * rng.uniform(0.8, 1.3),
    apply: (clean, ts, a) =>
      clean + (a.end === a.start ? a.magnitude : (a.magnitude * (ts - a.start)) / (a.end - a.start)),
  },
  /** The exact same value for 30-120 minutes (a frozen sensor); magnitude 0. */
  stuck: {
    deviceWide: false,
    anyMachineState: false,
    samples: (rng, p) => span(rng, p, 30 * MINUTE, 2 * HOUR, 6),
    magnitude: () => 0,
    apply: (clean) => clean,
  },
  /** Extra Gaussian noise of standard deviation `magnitude` for 10-40 minutes (a loose connector). */
  'noise-burst': {
    deviceWide: false,
    anyMachineState: false,
    samples: (rng, p) => span(rng, p, 10 * MINUTE, 40 * MINUTE, 6),
    magnitude: (rng, k) => k.burst * rng.uniform(0.8, 1.3),
    apply: (clean, _ts, a, noise) => clean + a.magnitude * noise.normal(),
  },
  /** The device sends nothing for 15-60 minutes; one label per metric; magnitude 0. */
  dropout: {
    deviceWide: true,
    anyMachineState: true,
    samples: (rng, p) => span(rng, p, 15 * MINUTE, HOUR, 2),
    magnitude: () => 0,
    apply: (clean) => clean,
  },
  /** 1-3 readings outside the physical range (magnitude: the value sent), as a glitching ADC or bus. */
  'out-of-range': {
    deviceWide: false,
    anyMachineState: true,
    samples: (rng) => rng.int(1, 3),
    magnitude: (rng, k) => rng.pick(k.glitches),
    apply: (_clean, _ts, a) => a.magnitude,
  },
};
