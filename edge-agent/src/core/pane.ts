import type { ReadingsWindow, WindowResult } from '@tributary/firmware-schemas';
import { addReading, resetAggregate, type Aggregate } from './aggregate.js';
import type { DeviceClock } from './event-time.js';
import type { SeriesNode } from './series-table.js';
import { QuantileSketch } from './sketch.js';

/**
 * One slide interval of one series: the aggregate of its readings, its quantile sketch (made on
 * the first reading) and how many of its readings the range filter removed. Windows are unions
 * of `lengthMs / slideMs` consecutive panes.
 */
export class Pane implements Aggregate {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  mean = 0;
  m2 = 0;
  first = NaN;
  firstTs = Infinity;
  last = NaN;
  lastTs = -Infinity;
  outOfRange = 0;
  sketch: QuantileSketch | undefined = undefined;
  /**
   * Holds readings restored from a window flushed before the agent restarted: the aggregate is
   * whole, but the sketch misses them, so the window is sent without quantiles.
   */
  partial = false;
  /** The write-ahead log's segment when its first reading came (see WindowEngine.walTag). */
  tag = 0;

  /** Where its slide interval starts. A number field from the start: one first `undefined` would box every double written to it. */
  start = 0;

  constructor(start: number) {
    this.start = start;
  }

  /** Empties the pane for reuse at another start (keeps the sketch's buffers). */
  reset(start: number): void {
    resetAggregate(this);
    this.start = start;
    this.outOfRange = 0;
    this.partial = false;
    this.sketch?.clear();
  }

  /** One reading: Welford's update of the aggregate, and the sketch (made on the first reading). */
  add(ts: number, x: number, sketchK: number): void {
    addReading(this, ts, x);
    (this.sketch ??= new QuantileSketch(sketchK)).add(x);
  }
}

/** One series in the window engine. */
export class Series implements SeriesNode {
  older: SeriesNode | undefined = undefined;
  newer: SeriesNode | undefined = undefined;
  /** Sorted by start; few (about (length + lateness) / slide), so an array beats a map. */
  panes: Pane[] = [];
  /** The last of `panes` (the one most readings go to), or undefined. */
  newest: Pane | undefined = undefined;
  /** Revision last emitted per window end (re-emit mode only). */
  revs: Map<number, number> | undefined = undefined;
  /** Readings in panes before this were in windows emitted when an earlier instance of this series was evicted. */
  minPaneStart = -Infinity;

  /** Its device's place in EventTime's array (DeviceClock.at), read per reading. */
  readonly at: number;

  constructor(
    readonly device: string,
    readonly metric: string,
    /** Its device's event-time progress, shared by the device's series. */
    readonly clock: DeviceClock,
  ) {
    this.at = clock.at;
  }
}

const QS = [0.5, 0.9, 0.99] as const;

/** A reusable accumulator for windows made of several panes (sliding windows). */
export class WindowScratch extends Pane {
  readonly merged: QuantileSketch;
  private readonly q: number[] = [NaN, NaN, NaN];

  constructor(sketchK: number) {
    super(0);
    this.merged = new QuantileSketch(sketchK);
  }

  clearAll(): void {
    resetAggregate(this);
    this.outOfRange = 0;
    this.merged.clear();
  }

  /**
   * The window result of `agg` (a pane, or this scratch after merging), holding a reading or one
   * the range filter removed; with none but the latter, only their count (OutOfRangeWindowSchema).
   */
  result(
    s: Series,
    start: number,
    end: number,
    rev: number,
    agg: Pane,
    sketch: QuantileSketch | undefined,
  ): WindowResult {
    if (agg.count === 0)
      return { device: s.device, metric: s.metric, start, end, count: 0, rev, outOfRange: agg.outOfRange };
    const w: ReadingsWindow = {
      device: s.device,
      metric: s.metric,
      start,
      end,
      count: agg.count,
      sum: agg.sum,
      min: agg.min,
      max: agg.max,
      mean: agg.mean,
      m2: agg.m2,
      first: agg.first,
      last: agg.last,
      firstTs: agg.firstTs,
      lastTs: agg.lastTs,
      rev,
    };
    if (sketch !== undefined && sketch.count > 0) {
      sketch.quantiles(QS, this.q);
      w.quantiles = { p50: this.q[0]!, p90: this.q[1]!, p99: this.q[2]! };
    }
    if (agg.outOfRange > 0) w.outOfRange = agg.outOfRange;
    return w;
  }
}
