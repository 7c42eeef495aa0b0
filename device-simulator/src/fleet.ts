import { BehaviourConfig, type DeviceModelConfig } from '@tributary/firmware-schemas';
import type { z } from 'zod';
import { anomalyModels } from './anomalies/kinds.js';
import { planDeviceAnomalies, type AnomalyPlan, type GroundTruth, type PlannedAnomaly } from './anomalies/plan.js';
import { noClock, planOutages, skewedClock, syncedClock, type DeviceClock } from './behaviour.js';
import { SimDevice, type Frame, type SeriesRuntime } from './device.js';
import { cumulative, pickWeighted, Rng } from './rng.js';
import { TickQueue } from './scheduler.js';
import { countAtMost } from './sorted.js';
import { sensorKinds } from './signals/kinds.js';
import { MachineSchedule } from './signals/machine.js';
import { Signal } from './signals/signal.js';

export type Behaviour = z.output<typeof BehaviourConfig>;

export interface FleetOptions {
  readonly devices: number;
  readonly seed: number | string;
  /** Simulated time of the first tick (ms since the epoch). */
  readonly startMs: number;
  /** Length of the simulated run (ms); anomalies are planned inside it. */
  readonly durationMs: number;
  /** Sample period of every sensor of the built-in models; used when `models` is not given. */
  readonly samplePeriodMs?: number;
  readonly anomalies: AnomalyPlan;
  /** Device models (a fleet file's `models`); by default temperature/humidity and vibration/temperature devices. */
  readonly models?: readonly DeviceModelConfig[];
  readonly sites?: readonly string[];
  /** Wire misbehaviour; by default none (no skew, gaps, duplicates, malformed payloads or outages). */
  readonly behaviour?: Behaviour;
  /** Play only the devices of this site (the others are not built; ids and readings do not change). */
  readonly site?: string;
}

/** The models of a fleet built from options alone: calm, always-running machines, one sample period. */
function builtInModels(samplePeriodMs: number): DeviceModelConfig[] {
  const sensors = (...kinds: Array<'temperature' | 'humidity' | 'vibration'>): DeviceModelConfig['sensors'] =>
    kinds.map((kind) => ({ kind, samplePeriodMs }));
  return [
    { prefix: 'th', share: 0.6, sensors: sensors('temperature', 'humidity'), format: 'json', clock: 'synced' },
    { prefix: 'vib', share: 0.4, sensors: sensors('vibration', 'temperature'), format: 'json', clock: 'synced' },
  ];
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * A deterministic fleet: the same options give the same devices, readings and ground truth. Every
 * device and series draws from its own random stream (forked by index and name), so adding a
 * device or an anomaly kind does not change the readings of the others.
 */
export class Fleet {
  readonly devices: SimDevice[] = [];
  /** Ground truth, ordered by start. */
  readonly labels: GroundTruth[] = [];
  /** Simulated start time of each planned anomaly (one per dropout, not per metric), ascending. */
  private readonly anomalyStarts: number[] = [];

  constructor(readonly options: FleetOptions) {
    const root = new Rng(options.seed);
    const end = options.startMs + options.durationMs;
    const models = options.models ?? builtInModels(options.samplePeriodMs ?? 15_000);
    const shares = cumulative(Object.fromEntries(models.map((m, i) => [String(i), m.share])));
    const sites = options.sites ?? ['site-1'];
    const behaviour = options.behaviour ?? BehaviourConfig.parse({});
    const malformedKinds = cumulative(behaviour.malformedMix);
    for (let i = 0; i < options.devices; i++) {
      const site = sites[i % sites.length]!;
      if (options.site !== undefined && site !== options.site) continue;
      const rng = root.fork(`device-${i}`);
      const model = models[Number(pickWeighted(rng, shares))]!;
      const id = `${model.prefix}-${String(i + 1).padStart(4, '0')}`;
      const periodMs = model.sensors.map((s) => s.samplePeriodMs).reduce(gcd);
      const offsetMs = rng.int(0, periodMs - 1);
      const machine = model.machine
        ? MachineSchedule.draw(
            rng.fork('machine'),
            options.startMs,
            end,
            model.machine.meanOnMs,
            model.machine.meanOffMs,
          )
        : undefined;
      const planned = model.sensors.map((s) => ({
        kind: sensorKinds[s.kind],
        offsetMs,
        periodMs: s.samplePeriodMs,
        machine,
      }));
      const anomalies = planDeviceAnomalies(
        rng.fork('anomalies'),
        planned,
        { start: options.startMs, end, deviceOffsetMs: offsetMs, devicePeriodMs: periodMs },
        options.anomalies,
      );
      const clock = this.clockOf(model, rng.fork('clock'), behaviour);
      const series: SeriesRuntime[] = model.sensors.map((s, k) => ({
        signal: new Signal(
          sensorKinds[s.kind],
          rng.fork(`signal-${s.kind}`),
          rng.fork(`weather-${s.kind}`),
          rng.fork(`noise-${s.kind}`),
          options.startMs,
          s.samplePeriodMs,
          machine,
        ),
        every: s.samplePeriodMs / periodMs,
        anomalies: anomalies
          .filter((a) => a.series === k && !anomalyModels[a.kind].deviceWide)
          .sort((a, b) => a.start - b.start),
        cursor: 0,
        anomalyNoise: rng.fork(`anomaly-noise-${s.kind}`),
      }));
      const dropouts = anomalies.filter((a) => anomalyModels[a.kind].deviceWide).sort((a, b) => a.start - b.start);
      const outages = planOutages(
        rng.fork('outages'),
        options.startMs,
        end,
        behaviour.reconnects.ratePerDevicePerDay,
        behaviour.reconnects.meanOutageMs,
      );
      const wire = {
        seqGapRate: behaviour.seqGapRate,
        duplicateRate: behaviour.duplicateRate,
        malformedRate: behaviour.malformedRate,
        malformedKinds,
        maxBufferedMessages: behaviour.reconnects.maxBufferedMessages,
      };
      const device = new SimDevice(
        {
          id,
          site,
          model: model.prefix,
          format: model.format,
          clock,
          clockless: model.clock === 'none',
          periodMs,
          offsetMs,
          series,
          dropouts,
          outages,
          behaviour: wire,
          rng: rng.fork('wire'),
        },
        options.startMs,
      );
      this.devices.push(device);
      this.addLabels(device, anomalies, clock);
    }
    this.labels.sort(
      (a, b) => a.start - b.start || a.device.localeCompare(b.device) || a.metric.localeCompare(b.metric),
    );
    this.anomalyStarts.sort((a, b) => a - b);
  }

  /**
   * Plays every tick up to `untilMs` (default: the end of the run) at once, in event-time order,
   * without a clock or I/O: for tests and for writing a data set. A fleet is played once.
   */
  play(emit: (frame: Frame) => void, untilMs = this.options.startMs + this.options.durationMs): void {
    const queue = new TickQueue(this.devices);
    const end = Math.min(untilMs, this.options.startMs + this.options.durationMs);
    for (let d = queue.peek(); d !== undefined; d = queue.peek()) {
      if (d.nextTs >= end) queue.pop();
      else {
        d.step(emit);
        queue.advanced();
      }
    }
  }

  /** Whether some device has no clock (its readings get the receiver's arrival time). */
  get hasClocklessDevices(): boolean {
    return this.devices.some((d) => d.spec.clockless);
  }

  /** Anomalies (a dropout counted once) that have started by simulated time `simTime`. */
  anomaliesStartedBy(simTime: number): number {
    return countAtMost(this.anomalyStarts, simTime);
  }

  private clockOf(model: DeviceModelConfig, rng: Rng, behaviour: Behaviour): DeviceClock {
    if (model.clock === 'none') return noClock;
    if (model.clock === 'synced') return syncedClock;
    const { maxOffsetMs, maxDriftPpm } = behaviour.clockSkew;
    return skewedClock(
      this.options.startMs,
      Math.round(rng.uniform(-maxOffsetMs, maxOffsetMs)),
      rng.uniform(-maxDriftPpm, maxDriftPpm),
    );
  }

  /** Labels in the time the device stamps (a skewed clock's time; simulated time for clockless devices). */
  private addLabels(device: SimDevice, anomalies: readonly PlannedAnomaly[], clock: DeviceClock): void {
    const time = (t: number): number => clock(t) ?? t;
    for (const a of anomalies) {
      this.anomalyStarts.push(a.start);
      const series = anomalyModels[a.kind].deviceWide ? device.spec.series : [device.spec.series[a.series]!];
      for (const s of series)
        this.labels.push({
          device: device.id,
          metric: s.signal.kind.metric,
          kind: a.kind,
          start: time(a.start),
          end: time(a.end),
          magnitude: a.magnitude,
        });
    }
  }
}
