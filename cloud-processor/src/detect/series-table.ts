import { openThreshold } from '../alerts/lifecycle.js';
import type { Detector } from './detector.js';
import type { DetectorPlan } from './registry.js';

/** Alert detector names besides the plan's own (`ensemble`, …). */
export const MISSING_DATA = 'missing-data';
export const OUT_OF_RANGE = 'out-of-range';

/** Bits of `Series.open`: which of a series' detectors has an alert open. */
export const OPEN_PLAN = 1;
export const OPEN_OUT_OF_RANGE = 2;
export const OPEN_MISSING = 4;

/** One series' bookkeeping beside its detector. */
export interface Series {
  readonly device: string;
  readonly metric: string;
  readonly plan: DetectorPlan;
  readonly detector: Detector;
  /** 1 / (1 + sensitivity), the plan's open threshold, computed once. */
  readonly threshold: number;
  lastTs: number;
  lengthMs: number;
  agent: string;
  /** OPEN_* bits: which of its alerts are open (mirrors the lifecycle, so quiet points skip it). */
  open: number;
  /** Neighbours in recency order (`older` is seen before it). */
  older: Series | undefined;
  newer: Series | undefined;
}

export function newSeries(
  device: string,
  metric: string,
  plan: DetectorPlan,
  detector: Detector,
  lastTs: number,
  lengthMs: number,
  agent: string,
): Series {
  return {
    device,
    metric,
    plan,
    detector,
    threshold: openThreshold(plan.sensitivity),
    lastTs,
    lengthMs,
    agent,
    open: 0,
    older: undefined,
    newer: undefined,
  };
}

/** Every detector a series' alerts can come from: its own, and the out-of-range and silence judgements. */
export const detectorsOf = (s: Series): string[] => [s.plan.name, OUT_OF_RANGE, MISSING_DATA];

/** The Series.open bit of one of a series' detectors (see detectorsOf). */
export const openBit = (s: Series, detector: string): number =>
  detector === s.plan.name ? OPEN_PLAN : detector === OUT_OF_RANGE ? OPEN_OUT_OF_RANGE : OPEN_MISSING;

/**
 * The series with detector state, by device and metric, in recency order: a map for lookups and a doubly linked
 * list through the series themselves, so marking one as just seen moves two links instead of
 * deleting and re-inserting a map entry for every point.
 */
export class SeriesTable {
  /**
   * By device, then metric: both names come parsed from a batch with their hashes cached, while a
   * `device \0 metric` key built per point is a new string hashed every time (3 % of detection).
   */
  private readonly byDevice = new Map<string, Map<string, Series>>();
  private count = 0;
  private oldest: Series | undefined;
  private newest: Series | undefined;

  get size(): number {
    return this.count;
  }

  get(device: string, metric: string): Series | undefined {
    return this.byDevice.get(device)?.get(metric);
  }

  /** Adds a series as the most recently seen. */
  add(s: Series): void {
    let metrics = this.byDevice.get(s.device);
    if (metrics === undefined) this.byDevice.set(s.device, (metrics = new Map()));
    if (!metrics.has(s.metric)) this.count++;
    metrics.set(s.metric, s);
    this.link(s);
  }

  /** Marks a series as just seen. */
  touch(s: Series): void {
    if (s === this.newest) return;
    this.unlink(s);
    this.link(s);
  }

  /** Takes out the least recently seen series. */
  removeOldest(): Series | undefined {
    const s = this.oldest;
    if (s === undefined) return undefined;
    const metrics = this.byDevice.get(s.device);
    if (metrics?.delete(s.metric) === true) {
      this.count--;
      if (metrics.size === 0) this.byDevice.delete(s.device);
    }
    this.unlink(s);
    return s;
  }

  /** From the least to the most recently seen. */
  *values(): Generator<Series> {
    for (let s = this.oldest; s !== undefined; s = s.newer) yield s;
  }

  private link(s: Series): void {
    s.older = this.newest;
    s.newer = undefined;
    if (this.newest) this.newest.newer = s;
    else this.oldest = s;
    this.newest = s;
  }

  private unlink(s: Series): void {
    if (s.older) s.older.newer = s.newer;
    else this.oldest = s.newer;
    if (s.newer) s.newer.older = s.older;
    else this.newest = s.older;
    s.older = s.newer = undefined;
  }
}
