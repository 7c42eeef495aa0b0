import type { SensorKindName } from '@tributary/firmware-schemas';

/**
 * The physical model of one sensor kind, one entry per kind in `sensorKinds` below. A reading is
 *
 *   baseline + daily cycle + weather (a mean-reverting random walk) + slow sensor drift
 *   (+ machine or occupancy level) + measurement noise, clamped to the range, quantised (ADC).
 *
 * Anomaly sizes are here too, in the kind's unit: big enough to be a real fault, small enough to
 * stay physically plausible (a humidity spike stays under 100 %RH; a dip, negative shift or drift of
 * a machine's vibration or current, injected only while it runs, stays above zero).
 */
export interface SensorKind {
  readonly metric: SensorKindName;
  readonly unit: string;
  /** Physically possible range; the agent's range filter uses it, and a glitch leaves it. */
  readonly range: { readonly min: number; readonly max: number };
  /** Per-device baseline, drawn uniformly from this interval (with `driver`: the level when idle). */
  readonly baseline: readonly [number, number];
  /** Peak-to-mean amplitude of the daily cycle (negative: lowest at `peakHour`). */
  readonly dailyAmplitude: number;
  /** Hour of day (UTC) at which the cycle peaks. */
  readonly peakHour: number;
  /** Weather: stationary standard deviation and correlation time of an Ornstein-Uhlenbeck walk. */
  readonly weatherStd: number;
  readonly weatherTauMs: number;
  /** Bound of the per-device sensor drift (ageing), in units per day. */
  readonly maxDriftPerDay: number;
  /** Standard deviation of the measurement noise (with `driver`, while active). */
  readonly noise: number;
  /** ADC resolution: readings are multiples of it. At least a third of the noise, so values vary. */
  readonly quantum: number;
  /**
   * `machine`: the level is `baseline` while the machine is off and `activeLevel` on top while it
   * runs (vibration, current). `occupancy`: `activeLevel` builds up during office hours (CO2).
   */
  readonly driver?: {
    readonly type: 'machine' | 'occupancy';
    readonly activeLevel: readonly [number, number];
    readonly idleNoise: number;
  };
  /** Anomaly sizes: single-reading spike and dip, level shift, total drift, noise-burst σ. */
  readonly spike: number;
  readonly dip: number;
  readonly shift: number;
  readonly drift: number;
  readonly burst: number;
  /** Values a glitching sensor reports, all outside `range` (e.g. an unpowered DS18B20's −127). */
  readonly glitches: readonly number[];
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

export const sensorKinds: Readonly<Record<SensorKindName, SensorKind>> = {
  temperature: {
    metric: 'temperature',
    unit: '°C',
    range: { min: -40, max: 85 },
    baseline: [18, 24],
    dailyAmplitude: 3,
    peakHour: 15,
    weatherStd: 0.6,
    weatherTauMs: 6 * HOUR,
    maxDriftPerDay: 0.05,
    noise: 0.08,
    quantum: 0.01,
    spike: 6,
    dip: 6,
    shift: 3,
    drift: 4,
    burst: 1.2,
    glitches: [-127, 127.5, 327.67],
  },
  humidity: {
    metric: 'humidity',
    unit: '%RH',
    range: { min: 0, max: 100 },
    baseline: [38, 52],
    dailyAmplitude: -7,
    peakHour: 15,
    weatherStd: 2.5,
    weatherTauMs: 8 * HOUR,
    maxDriftPerDay: 0.1,
    noise: 0.4,
    quantum: 0.1,
    spike: 20,
    dip: 15,
    shift: 8,
    drift: 10,
    burst: 5,
    glitches: [-1, 110, 655.35],
  },
  pressure: {
    metric: 'pressure',
    unit: 'hPa',
    range: { min: 870, max: 1085 },
    baseline: [1003, 1023],
    dailyAmplitude: 0.6,
    peakHour: 10,
    weatherStd: 6,
    weatherTauMs: 36 * HOUR,
    maxDriftPerDay: 0.05,
    noise: 0.06,
    quantum: 0.01,
    spike: 6,
    dip: 6,
    shift: 4,
    drift: 6,
    burst: 1.5,
    glitches: [0, 1200, 6553.5],
  },
  vibration: {
    metric: 'vibration',
    unit: 'mm/s',
    range: { min: 0, max: 50 },
    baseline: [0.08, 0.15],
    dailyAmplitude: 0,
    peakHour: 12,
    weatherStd: 0,
    weatherTauMs: HOUR,
    maxDriftPerDay: 0,
    noise: 0.25,
    quantum: 0.01,
    driver: { type: 'machine', activeLevel: [2.8, 5.5], idleNoise: 0.03 },
    spike: 8,
    dip: 1.5,
    shift: 1.5,
    drift: 1.5,
    burst: 1.2,
    glitches: [-1, 99.99, 655.35],
  },
  current: {
    metric: 'current',
    unit: 'A',
    range: { min: 0, max: 100 },
    baseline: [0.2, 0.5],
    dailyAmplitude: 0,
    peakHour: 12,
    weatherStd: 0,
    weatherTauMs: HOUR,
    maxDriftPerDay: 0,
    noise: 0.2,
    quantum: 0.01,
    driver: { type: 'machine', activeLevel: [8, 20], idleNoise: 0.03 },
    spike: 12,
    dip: 5,
    shift: 4,
    drift: 5,
    burst: 1.5,
    glitches: [-5, 250, 655.35],
  },
  co2: {
    metric: 'co2',
    unit: 'ppm',
    range: { min: 0, max: 10_000 },
    baseline: [410, 440],
    dailyAmplitude: 0,
    peakHour: 12,
    weatherStd: 5,
    weatherTauMs: 2 * HOUR,
    maxDriftPerDay: 2,
    noise: 6,
    quantum: 1,
    driver: { type: 'occupancy', activeLevel: [350, 800], idleNoise: 6 },
    spike: 450,
    dip: 150,
    shift: 150,
    drift: 200,
    burst: 60,
    glitches: [-1, 32_767, 65_535],
  },
};

/** CO2 builds up and decays with this time constant (ventilation). */
export const OCCUPANCY_TAU_MS = 45 * MINUTE;
