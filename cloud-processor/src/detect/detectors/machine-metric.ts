import { DelayedCalibrator, type DelayedCalibratorState } from '../stats/delayed-calibrator.js';
import { LevelTracker, type LevelTrackerState } from '../stats/level-tracker.js';
import type { Slab } from '../stats/slab.js';
import type { MachineConfig } from './machine-config.js';
import { LEARN_DELAY } from './shift.js';

export interface MachineMetricState {
  level: LevelTrackerState;
  /** This metric's residuals, calibrated on its own (absent in the first version's snapshots). */
  own?: DelayedCalibratorState;
  /** Mean squared residual in normal times (share-weighted, fading), and the weight behind it. */
  meanSquare: number;
  weight: number;
  /** The residual averaged over the baseline's span before the latest time (absent in older snapshots). */
  built?: number;
  /** How long the residual has stayed on its side (ms, counted to just past `baselineMs`), and that side (absent in older snapshots). */
  sideFor?: number;
  side?: number;
}

/** A calibrator of the machine's (its distances, a metric's residuals): learnt one recent span at a time, LEARN_DELAY spans late. */
export function machineCalibrator(
  config: MachineConfig,
  slab: Slab,
  state?: DelayedCalibratorState,
): DelayedCalibrator {
  const c = config.calibration;
  return new DelayedCalibrator(c.halfLifeMs, c.tailIndex, config.recentMs, LEARN_DELAY * config.recentMs, state, slab);
}

/**
 * One metric of a machine: its level (baseline and trend, as `shift` tracks it), its residuals'
 * usual size and their calibration on their own, and what its residual had built up before.
 */
export class MachineMetric {
  readonly level: LevelTracker;
  readonly own: DelayedCalibrator;
  meanSquare: number;
  weight: number;
  /** The residual's average over the baseline's span, as of the time before (see `fresh`). */
  private built: number;
  /** How long the residual has stayed on one side (ms), and which (-1, 0, 1). */
  private sideFor: number;
  private side: number;

  constructor(
    private readonly config: MachineConfig,
    slab: Slab,
    state?: MachineMetricState,
  ) {
    this.level = new LevelTracker(config.recentMs, config.baselineMs, state?.level, slab);
    this.own = machineCalibrator(config, slab, state?.own);
    this.meanSquare = state?.meanSquare ?? 0;
    this.weight = state?.weight ?? 0;
    this.built = state?.built ?? 0;
    this.sideFor = state?.sideFor ?? 0;
    this.side = state?.side ?? 0;
  }

  /**
   * The residual less what it had built up before (its average over the baseline's span, when on
   * the same side), and that average moved on: a step is news at once; a residual that grew over
   * longer than the baseline spans (a trend bending, a room filling) is not news for the level.
   */
  fresh(r: number): number {
    const before = this.built;
    this.built += (1 - Math.exp(-this.level.sinceLast / this.config.baselineMs)) * (r - before);
    const side = Math.sign(r);
    // Counted up to just past the baseline's span (all `alone` asks), so it stays a small integer.
    if (side !== this.side) {
      this.side = side;
      this.sideFor = 0;
    } else if (this.sideFor <= this.config.baselineMs) this.sideFor += this.level.sinceLast;
    return side * Math.max(0, Math.abs(r) - Math.max(0, side * before));
  }

  /**
   * The residual as the metric is judged alone: what moved (`fresh`, this time's) once the residual
   * has stayed on its side for longer than the baseline spans (it built up over longer: a trend
   * bending, a room filling as people arrive), else the whole residual (a level that moved within
   * the span counts whole: a pump's flow falling over half a minute).
   */
  alone(r: number, fresh: number): number {
    return this.sideFor > this.config.baselineMs ? fresh : r;
  }

  /** The level released (back or accepted): nothing is built up in the state it is in now. */
  release(how: 'accept' | 'return', ts: number): void {
    this.level.release(how, ts);
    this.built = 0;
    this.side = 0;
    this.sideFor = 0;
  }

  /** Learns one residual into the usual size, as `share` of an observation, the older ones faded by `fade`. */
  learn(r: number, share: number, fade: number): void {
    this.weight = this.weight * fade + share;
    this.meanSquare += (share / this.weight) * (r * r - this.meanSquare);
  }

  snapshot(): MachineMetricState {
    return {
      level: this.level.snapshot(),
      own: this.own.snapshot(),
      meanSquare: this.meanSquare,
      weight: this.weight,
      built: this.built,
      sideFor: this.sideFor,
      side: this.side,
    };
  }
}
