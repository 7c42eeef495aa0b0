import { anomalyOffset, planAnomalies, type AnomalyPlan, type GroundTruth } from './anomalies.js';
import { Rng } from './rng.js';
import { clampToRange, createSignal, expectedValue, quantise, sensorKinds, type Signal } from './signals.js';

export interface FleetOptions {
  readonly devices: number;
  readonly seed: number | string;
  /** Event time of the first sample (ms). */
  readonly startMs: number;
  /** Length of the simulated run (ms); anomalies are planned inside it. */
  readonly durationMs: number;
  readonly samplePeriodMs: number;
  readonly anomalies: AnomalyPlan;
}

/** The kinds each device model carries; devices are assigned a model in turn by the seed. */
const deviceModels = [
  { prefix: 'th', metrics: ['temperature', 'humidity'], share: 0.6 },
  { prefix: 'vib', metrics: ['vibration', 'temperature'], share: 0.4 },
] as const;

export interface SimDevice {
  readonly id: string;
  /** Offset of this device's samples within the sample period, so devices do not send in lockstep. */
  readonly offsetMs: number;
  readonly series: ReadonlyArray<{ readonly signal: Signal; readonly noise: Rng; readonly anomalies: readonly GroundTruth[] }>;
  seq: number;
}

/** A deterministic fleet: the same options give the same devices, readings and ground truth. */
export class Fleet {
  readonly devices: SimDevice[] = [];
  readonly labels: GroundTruth[] = [];

  constructor(readonly options: FleetOptions) {
    const root = new Rng(options.seed);
    const end = options.startMs + options.durationMs;
    for (let i = 0; i < options.devices; i++) {
      const rng = root.fork(`device-${i}`);
      const model = rng.next() < deviceModels[0].share ? deviceModels[0] : deviceModels[1];
      const id = `${model.prefix}-${String(i + 1).padStart(4, '0')}`;
      const offsetMs = rng.int(0, options.samplePeriodMs - 1);
      const series = model.metrics.map((metric) => {
        const kind = sensorKinds[metric]!;
        const anomalies = planAnomalies(rng.fork(`anomalies-${metric}`), id, kind, { start: options.startMs, end, offsetMs, periodMs: options.samplePeriodMs }, options.anomalies);
        this.labels.push(...anomalies);
        return { signal: createSignal(kind, rng.fork(`signal-${metric}`)), noise: rng.fork(`noise-${metric}`), anomalies };
      });
      this.devices.push({ id, offsetMs, series, seq: 0 });
    }
    this.devices.sort((a, b) => a.offsetMs - b.offsetMs);
    this.labels.sort((a, b) => a.start - b.start);
  }

  /** Event time of `device`'s sample number `step`. */
  sampleTime(device: SimDevice, step: number): number {
    return this.options.startMs + step * this.options.samplePeriodMs + device.offsetMs;
  }

  /** The reading values of `device` at event time `ts` (advances its noise streams). */
  values(device: SimDevice, ts: number): Record<string, number> {
    const values: Record<string, number> = {};
    for (const s of device.series) {
      const kind = s.signal.kind;
      const raw = expectedValue(s.signal, ts) + kind.noise * s.noise.normal() + anomalyOffset(s.anomalies, ts);
      values[kind.metric] = quantise(clampToRange(raw, kind), kind.quantum);
    }
    return values;
  }

  get steps(): number {
    return Math.ceil(this.options.durationMs / this.options.samplePeriodMs);
  }
}
