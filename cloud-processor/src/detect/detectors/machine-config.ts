import { z } from 'zod';
import type { Verdict } from '../detector.js';
import { LevelCalibration, LevelConfig } from './shift.js';

/** The machine's settings (`detection.devices`): a level tracked and held per metric as `shift` does. */
export const MachineConfig = LevelConfig.extend({
  /** Alarms at the ensemble's surprise: one decision for series and machines. */
  calibration: LevelCalibration.prefault({ alarmSurprise: 2.5 }),
  /** Metrics of one device judged together at most; further ones are left out (counted in `ignored`). */
  maxMetrics: z.number().int().min(2).max(32).default(16),
});
export type MachineConfig = z.output<typeof MachineConfig>;

/** A device's verdict, with the metrics that moved most (name, share of the distance, up or down). */
export interface MachineVerdict extends Verdict {
  readonly moved: readonly { metric: string; share: number; up: boolean }[];
  /** Metrics of this time left out, beyond `maxMetrics` (the first one named), when there were any. */
  readonly leftOut?: { readonly count: number; readonly first: string };
}

/** A device's several metrics at one time (window end or row timestamp). */
export type MachineInput = ReadonlyMap<string, number>;

/** A device detector: judges a device's metrics together, one time step at a time. */
export interface DeviceDetector {
  update(ts: number, values: MachineInput): MachineVerdict;
  /** Takes a metric in before its first value, if within the bound: whether it judges (and holds) the metric's level. */
  claim(metric: string): boolean;
  snapshot(): unknown;
}
