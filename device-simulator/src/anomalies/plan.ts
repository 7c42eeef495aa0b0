import { cumulative, pickWeighted, type Rng } from '../rng.js';
import type { SensorKind } from '../signals/kinds.js';
import type { MachineSchedule } from '../signals/machine.js';
import { anomalyModels, type ActiveAnomaly, type AnomalyKind } from './kinds.js';

/** One injected anomaly as written to the ground-truth file (the contract is in firmware-schemas). */
export type { GroundTruth } from '@tributary/firmware-schemas';

export interface AnomalyPlan {
  /** Expected anomalies per series (device + metric) per simulated day. */
  readonly ratePerDay: number;
  /** Kinds drawn with equal weight; `mix` (relative weights) wins when given. */
  readonly kinds?: readonly AnomalyKind[];
  readonly mix?: Partial<Record<AnomalyKind, number>>;
  /** No anomaly before start + warmupMs, so detectors have a baseline to compare against. */
  readonly warmupMs: number;
  /** Quiet time kept between two anomalies of one series (and around a dropout of the device). */
  readonly gapMs: number;
}

/** One series of a device as the planner sees it: its sample grid and what drives it. */
export interface PlannedSeries {
  readonly kind: SensorKind;
  readonly offsetMs: number;
  readonly periodMs: number;
  readonly machine: MachineSchedule | undefined;
}

/** An anomaly of series `series` (an index into the device's series), in simulated time. */
export interface PlannedAnomaly extends ActiveAnomaly {
  readonly series: number;
}

const DAY_MS = 86_400_000;

/** A plan's kinds or mix as cumulative weights; empty when nothing is to be injected. */
export function kindWeights(plan: AnomalyPlan): Array<[AnomalyKind, number]> {
  return cumulative<AnomalyKind>(plan.mix ?? Object.fromEntries((plan.kinds ?? []).map((k) => [k, 1])));
}

/**
 * Plans the anomalies of one device over [start, end): a Poisson process of `ratePerDay` per
 * series, each anomaly snapped to its series' sample grid (`offset + k · period`) so it hits real
 * readings. Anomalies of one series keep `gapMs` apart, a dropout keeps `gapMs` from every other
 * anomaly of the device, none starts in the warm-up, and on a vibration or current sensor most
 * kinds happen only while the machine runs (a dip of a stopped machine would show nothing).
 */
export function planDeviceAnomalies(
  rng: Rng,
  series: readonly PlannedSeries[],
  window: { start: number; end: number; deviceOffsetMs: number; devicePeriodMs: number },
  plan: AnomalyPlan,
): PlannedAnomaly[] {
  const out: PlannedAnomaly[] = [];
  const weights = kindWeights(plan);
  if (plan.ratePerDay <= 0 || weights.length === 0 || series.length === 0) return out;
  const meanGapMs = DAY_MS / (plan.ratePerDay * series.length);
  let t = window.start + plan.warmupMs;
  for (;;) {
    t += -Math.log(1 - rng.next()) * meanGapMs;
    if (t >= window.end) break;
    const index = rng.int(0, series.length - 1);
    const kind = pickWeighted(rng, weights);
    const model = anomalyModels[kind];
    const s = series[index]!;
    // A dropout silences whole messages, so it sits on the device's tick grid.
    const offsetMs = model.deviceWide ? window.deviceOffsetMs : s.offsetMs;
    const periodMs = model.deviceWide ? window.devicePeriodMs : s.periodMs;
    const k = Math.ceil((t - window.start - offsetMs) / periodMs);
    const start = window.start + offsetMs + k * periodMs;
    const end = start + (model.samples(rng, periodMs) - 1) * periodMs;
    const magnitude = Number(model.magnitude(rng, s.kind).toFixed(3));
    if (end >= window.end) continue;
    if (
      !model.anyMachineState &&
      s.kind.driver?.type === 'machine' &&
      s.machine &&
      !s.machine.runsThroughout(start, end)
    )
      continue;
    const clash = out.some(
      (o) =>
        (model.deviceWide || anomalyModels[o.kind].deviceWide || o.series === index) &&
        start <= o.end + plan.gapMs &&
        o.start <= end + plan.gapMs,
    );
    if (clash) continue;
    out.push({ series: index, kind, start, end, magnitude });
  }
  return out;
}
