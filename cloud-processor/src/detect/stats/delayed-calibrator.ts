import { TailCalibrator, type TailCalibratorState } from './tail-calibrator.js';
import { Slab } from './slab.js';

export interface DelayedCalibratorState {
  calib: TailCalibratorState;
  /** Deviations waiting to be learnt: [ts, deviation, time since the previous in spans], oldest first. */
  pending: [number, number, number][];
}

/** Deviations waiting at most (a bound on the state of a fast series). */
const MAX_PENDING = 64;
/** The pending ring's float64s: where its oldest reading is, and how many wait; the triples follow. */
const START = 0;
const COUNT = 1;
const RING = 2;

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
  /**
   * Readings waiting: a ring in a region of the slab, START and COUNT, then room for triples (ts,
   * deviation, time since the previous in spans), oldest at START. It doubles when full (up to the
   * most that ever waited, at most MAX_PENDING) and never shrinks: no allocation per reading, and
   * no array of its own a calibrator (issue 18).
   */
  private readonly pending: number;
  private readonly slab: Slab;

  constructor(
    halfLifeMs: number,
    tailIndex: number,
    private readonly spanMs: number,
    private readonly delayMs: number,
    state?: DelayedCalibratorState,
    /** The owner's (one buffer for all of a series' arrays: slab.ts), else one of its own. */
    slab?: Slab,
  ) {
    this.slab = slab ?? new Slab();
    this.calib = new TailCalibrator(halfLifeMs / spanMs, tailIndex, state?.calib, this.slab);
    const waiting = state?.pending ?? [];
    this.pending = this.slab.alloc((RING + 3 * waiting.length) * 8);
    const f = this.slab.f64;
    const o = this.slab.at(this.pending) >> 3;
    f[o + COUNT] = waiting.length;
    waiting.forEach(([ts, d, spans], i) => {
      f[o + RING + 3 * i] = ts;
      f[o + RING + 3 * i + 1] = d;
      f[o + RING + 3 * i + 2] = spans;
    });
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
    const slab = this.slab;
    let f = slab.f64;
    let o = slab.at(this.pending) >> 3;
    let cap = this.capacity;
    while (f[o + COUNT]! > 0) {
      const t = o + RING + 3 * f[o + START]!;
      if (!(ts - f[t]! >= this.delayMs || f[o + COUNT]! >= MAX_PENDING)) break;
      const spans = f[t + 2]!;
      const dev = f[t + 1]!;
      f[o + START] = (f[o + START]! + 1) % cap;
      f[o + COUNT]!--;
      // Learning may move the region (the calibrator's histogram grows): read it afresh.
      this.calib.add(dev, Math.min(1, spans), spans);
      f = slab.f64;
      o = slab.at(this.pending) >> 3;
    }
    if (!(dt > 0)) return;
    const count = f[o + COUNT]!;
    if (count === cap) {
      // Full: twice the room, the ring unwrapped to start at 0.
      const start = f[o + START]!;
      const held = f.slice(o + RING, o + RING + 3 * cap);
      // Doubling, but never past the most that can wait (a restored ring may hold an odd number).
      cap = Math.min(MAX_PENDING, Math.max(1, 2 * cap));
      slab.resize(this.pending, (RING + 3 * cap) * 8, false);
      f = slab.f64;
      o = slab.at(this.pending) >> 3;
      f.set(held.subarray(3 * start), o + RING);
      f.set(held.subarray(0, 3 * start), o + RING + 3 * (count - start));
      f[o + COUNT] = count;
    }
    const t = o + RING + 3 * ((f[o + START]! + count) % cap);
    f[t] = ts;
    f[t + 1] = d;
    f[t + 2] = dt / this.spanMs;
    f[o + COUNT] = count + 1;
  }

  /** Triples the ring has room for. */
  private get capacity(): number {
    return ((this.slab.bytes(this.pending) >> 3) - RING) / 3;
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
    this.slab.setNum(this.pending, COUNT, 0);
  }

  snapshot(): DelayedCalibratorState {
    const pending: [number, number, number][] = [];
    const f = this.slab.f64;
    const o = this.slab.at(this.pending) >> 3;
    const cap = this.capacity;
    for (let i = 0; i < f[o + COUNT]!; i++) {
      const t = o + RING + 3 * ((f[o + START]! + i) % cap);
      pending.push([f[t]!, f[t + 1]!, f[t + 2]!]);
    }
    return { calib: this.calib.snapshot(), pending };
  }
}
