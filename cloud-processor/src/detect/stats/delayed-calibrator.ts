import { TailCalibrator, type TailCalibratorState } from './tail-calibrator.js';
import type { Slab } from './slab.js';

export interface DelayedCalibratorState {
  calib: TailCalibratorState;
  /** Deviations waiting to be learnt: [ts, deviation, time since the previous in spans], oldest first. */
  pending: [number, number, number][];
}

/** Deviations waiting at most (a bound on the state of a fast series). */
const MAX_PENDING = 64;

/**
 * A TailCalibrator for a statistic read faster than it changes (an average over `spanMs`, read at
 * every point): each reading counts as the share of one observation that the time since the last
 * is of `spanMs` (its values second by second are not separate events; a window longer than the
 * span is one), old ones fade with a half-life in time (`halfLifeMs`), and each is learnt only
 * `delayMs` later, unless `forget` was called meanwhile: what led
 * up to an alarm (a level sliding away over a minute) must not teach, reading by reading, that it
 * is normal. At most MAX_PENDING wait (the oldest is learnt first).
 */
export class DelayedCalibrator {
  private readonly calib: TailCalibrator;
  /** Readings waiting, as flat triples (ts, deviation, time since the previous in spans), oldest first: no allocation per reading. */
  private readonly pending: number[];

  constructor(
    halfLifeMs: number,
    tailIndex: number,
    private readonly spanMs: number,
    private readonly delayMs: number,
    state?: DelayedCalibratorState,
    /** The owner's (one buffer for all of a series' arrays: slab.ts), else one of its own. */
    slab?: Slab,
  ) {
    this.calib = new TailCalibrator(halfLifeMs / spanMs, tailIndex, state?.calib, undefined, slab);
    this.pending = state?.pending.flat() ?? [];
  }

  /** −log10 P(D ≥ d) under what was learnt (see TailCalibrator.surprise). */
  surprise(d: number): number {
    return this.calib.surprise(d);
  }

  /** Observations learnt so far (shares summed, before fading). */
  get observations(): number {
    return this.calib.effectiveCount;
  }

  /** Queues a reading taken `dt` after the previous one; learns those that have waited long enough. */
  queue(ts: number, d: number, dt: number): void {
    const p = this.pending;
    let learnt = 0;
    while (learnt < p.length && (ts - p[learnt]! >= this.delayMs || p.length - learnt >= 3 * MAX_PENDING)) {
      const spans = p[learnt + 2]!;
      this.calib.add(p[learnt + 1]!, Math.min(1, spans), spans);
      learnt += 3;
    }
    if (learnt > 0) {
      // In place: splice would also build an array of the removed readings, at nearly every window.
      p.copyWithin(0, learnt);
      p.length -= learnt;
    }
    if (dt > 0) p.push(ts, d, dt / this.spanMs);
  }

  /**
   * Learns a deviation at once, as one observation: a move the series (or machine) made and then
   * kept until it was accepted as its new normal is part of its life, though it alarmed.
   */
  learn(d: number): void {
    this.calib.add(d);
  }

  /** Forgets what is waiting (it led up to an alarm). */
  forget(): void {
    this.pending.length = 0;
  }

  snapshot(): DelayedCalibratorState {
    const pending: [number, number, number][] = [];
    for (let i = 0; i < this.pending.length; i += 3)
      pending.push([this.pending[i]!, this.pending[i + 1]!, this.pending[i + 2]!]);
    return { calib: this.calib.snapshot(), pending };
  }
}
