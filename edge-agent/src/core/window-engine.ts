import type { WindowResult } from '@tributary/firmware-schemas';
import { copyAggregate, mergeInto } from './aggregate.js';
import { Pane, Series, WindowScratch } from './pane.js';
import { SeriesTable } from './series-table.js';

export interface WindowEngineOptions {
  readonly lengthMs: number;
  /** Equal to lengthMs for tumbling windows; lengthMs must be a multiple of it. */
  readonly slideMs: number;
  readonly allowedLatenessMs: number;
  readonly maxSeries: number;
  readonly onSeriesLimit: 'reject-new' | 'evict-lru';
  readonly lateReadings: 'drop' | 're-emit';
  readonly lateHorizonMs: number;
  readonly maxPanesPerSeries: number;
  /** Items per level of each pane's quantile sketch (see sketch.ts). */
  readonly sketchK: number;
}

/** Where the engine's output and events go. Called synchronously from `add`, `noteOutOfRange` and `flush`. */
export interface WindowSink {
  /** One window result; a correction (`rev` > 0) carries the whole window. */
  window(w: WindowResult): void;
  /** A series was evicted (evict-lru) after its windows were emitted. */
  evicted(): void;
  /** A window held only readings the range filter removed: there is no result to carry its `outOfRange`. */
  outOfRangeOnly(): void;
}

/**
 * What happened to one reading. Every value but `accepted` and `corrected` means it was not kept:
 * `late` (its window was emitted; drop mode), `too-late` (beyond the correction horizon),
 * `series-limit` (a new series over maxSeries), `pane-limit` (over maxPanesPerSeries),
 * `evicted-window` (its window was emitted when its series was evicted: accepting it would emit
 * the window again with part of its readings, overwriting the first emission downstream).
 */
export type AddOutcome = 'accepted' | 'corrected' | 'late' | 'too-late' | 'series-limit' | 'pane-limit' | 'evicted-window';

/**
 * Event-time windows aligned to the epoch (`start = floor(ts / slide) · slide`), tumbling or
 * sliding, built from panes so a reading costs O(1) and a window costs O(length / slide) once.
 *
 * The watermark is the newest event time accepted minus the allowed lateness (one watermark for
 * the agent). A window [s, e) is emitted once the watermark reaches e. A reading is late when a
 * window holding it has been emitted (ts < closed boundary). Late readings are dropped or, in
 * `re-emit` mode, added to their retained pane when every window holding them ends less than
 * `lateHorizonMs` before the boundary (otherwise they are too late), and each of those windows
 * already emitted is emitted again whole with `rev` + 1.
 *
 * Memory: at most `maxSeries` series × `maxPanesPerSeries` panes, each pane O(1) plus its
 * sketch; a series with no pane left is forgotten. At `maxSeries`, `reject-new` refuses new
 * series and `evict-lru` emits the least recently updated series' windows and forgets it,
 * keeping a tombstone (at most `maxSeries` of them, until its windows could no longer change) so
 * that readings for windows it already emitted are refused (`evicted-window`) instead of
 * producing a second, partial emission of the same window.
 */
export class WindowEngine {
  private readonly table = new SeriesTable<Series>();
  /** Series key → end of the last window emitted at its eviction. */
  private readonly tombstones = new Map<string, number>();
  private readonly scratch: WindowScratch;
  /**
   * Panes of emitted windows, kept for reuse (with their sketch buffers) so steady state allocates
   * no panes: they would otherwise live a window's length, get promoted and cost major GCs.
   * Bounded by min(maxSeries, POOL_MAX).
   */
  private readonly pool: Pane[] = [];
  private readonly poolMax: number;
  private readonly reEmit: boolean;
  private readonly lru: boolean;
  private maxEventTs = -Infinity;
  /** Every window ending at or before this has been emitted. A multiple of slideMs. */
  private closedBoundary = -Infinity;
  /** Every window ending at or before this has been handed to the sink (unlike closedBoundary, set only once a close has finished emitting). */
  private emittedUpTo = -Infinity;

  constructor(
    private readonly options: WindowEngineOptions,
    private readonly sink: WindowSink,
  ) {
    if (options.lengthMs % options.slideMs !== 0) throw new RangeError('lengthMs must be a multiple of slideMs');
    this.scratch = new WindowScratch(options.sketchK);
    this.poolMax = Math.min(options.maxSeries, POOL_MAX);
    this.reEmit = options.lateReadings === 're-emit';
    this.lru = options.onSeriesLimit === 'evict-lru';
  }

  get activeSeries(): number {
    return this.table.size;
  }

  /**
   * Whether a reading of (device, metric) can get a series: it has one, there is room, or the
   * least recently updated is evicted for it. Asked before the filters, so readings refused at
   * `maxSeries` (reject-new) cannot push the filter state of series that are tracked out.
   */
  admits(device: string, metric: string): boolean {
    return this.table.size < this.options.maxSeries || this.table.get(device, metric) !== undefined || this.canEvict();
  }

  /** Whether evict-lru may evict now: not while the tombstones of recent evictions are at their bound. */
  private canEvict(): boolean {
    if (!this.lru || this.table.size === 0) return false;
    if (this.tombstones.size >= this.options.maxSeries) this.purgeTombstones(false);
    return this.tombstones.size < this.options.maxSeries;
  }

  get watermark(): number {
    return this.maxEventTs - this.options.allowedLatenessMs;
  }

  /** Adds one reading, emitting any windows the advanced watermark closes. */
  add(device: string, metric: string, ts: number, value: number): AddOutcome {
    const { slideMs, lengthMs } = this.options;
    const paneStart = Math.floor(ts / slideMs) * slideMs;
    const late = ts < this.closedBoundary;
    if (late) {
      if (!this.reEmit) return 'late';
      // Accepted only if every window holding it can still be corrected, so it counts everywhere it belongs.
      if (paneStart + slideMs <= this.closedBoundary - this.options.lateHorizonMs) return 'too-late';
    }
    const s = this.seriesFor(device, metric);
    if (typeof s === 'string') return s;
    if (paneStart < s.minPaneStart) return 'evicted-window';
    const pane = this.paneFor(s, paneStart);
    if (pane === undefined) return 'pane-limit';
    pane.add(ts, value, this.options.sketchK);

    if (late) {
      // Re-emit every emitted window holding this pane (all within the horizon, see above).
      for (let end = paneStart + slideMs; end <= paneStart + lengthMs && end <= this.closedBoundary; end += slideMs) this.emitWindow(s, end);
      return 'corrected';
    }
    if (ts > this.maxEventTs) {
      this.maxEventTs = ts;
      // Floor division rather than %: timestamps exceed 2^31, where % is a slow floating-point fmod.
      const boundary = Math.floor((ts - this.options.allowedLatenessMs) / slideMs) * slideMs;
      if (boundary > this.closedBoundary) this.close(boundary);
    }
    return 'accepted';
  }

  /**
   * Counts a reading the range filter removed against its pane, so the windows holding it carry
   * `outOfRange`. Only for open windows, and for series that exist or fit under maxSeries without
   * evicting one (a device sending garbage must not push good series out). It does not move the
   * watermark. Returns whether it was counted.
   */
  noteOutOfRange(device: string, metric: string, ts: number): boolean {
    if (ts < this.closedBoundary) return false;
    const slideMs = this.options.slideMs;
    if (this.table.size >= this.options.maxSeries && this.table.get(device, metric) === undefined) return false;
    const s = this.seriesFor(device, metric);
    if (typeof s === 'string') return false;
    const paneStart = Math.floor(ts / slideMs) * slideMs;
    if (paneStart < s.minPaneStart) return false;
    const pane = this.paneFor(s, paneStart);
    if (pane === undefined) return false;
    pane.outOfRange++;
    return true;
  }

  /**
   * Every window ending at or before this time has been emitted (so a batch sealed now, with the
   * batches before it, holds all of them): the cloud judges silence against it. -Infinity at first.
   */
  get complete(): number {
    return this.emittedUpTo;
  }

  /**
   * Takes back windows that a previous run flushed while they were still open (tumbling windows
   * only), so readings arriving for them after a restart are added to what was sent, and the
   * window is sent again whole — instead of a second, partial point overwriting the first in
   * InfluxDB. Returns how many were restored.
   */
  restore(windows: readonly WindowResult[]): number {
    const { lengthMs, slideMs } = this.options;
    if (lengthMs !== slideMs) return 0;
    let restored = 0;
    for (const w of windows) {
      if (w.end - w.start !== lengthMs || w.start % slideMs !== 0) continue;
      const s = this.seriesFor(w.device, w.metric);
      if (s === 'series-limit') continue;
      const pane = this.paneFor(s, w.start);
      if (pane === undefined || pane.count > 0) continue;
      copyAggregate(pane, w);
      pane.outOfRange = w.outOfRange ?? 0;
      pane.partial = true;
      restored++;
    }
    return restored;
  }

  /** Emits every window that holds data and forgets all state: for shutdown. */
  flush(): void {
    let last = this.emittedUpTo;
    this.table.forEach((s) => {
      const newest = s.panes.at(-1);
      if (newest) last = Math.max(last, newest.start + this.options.lengthMs);
    });
    this.table.forEach((s) => this.emitRange(s, this.closedBoundary, Infinity));
    this.emittedUpTo = last;
    this.table.clear();
    this.tombstones.clear();
  }

  private seriesFor(device: string, metric: string): Series | 'series-limit' {
    let s = this.table.get(device, metric);
    if (s !== undefined) {
      if (this.lru) this.table.touch(s);
      return s;
    }
    if (this.table.size >= this.options.maxSeries && !this.evictOldest()) return 'series-limit';
    s = new Series(device, metric);
    if (this.tombstones.size > 0) {
      const until = this.tombstones.get(seriesKey(device, metric));
      if (until !== undefined) s.minPaneStart = until;
    }
    this.table.insert(s);
    return s;
  }

  private paneFor(s: Series, start: number): Pane | undefined {
    const newest = s.newest;
    if (newest !== undefined && newest.start === start) return newest;
    const panes = s.panes;
    // Newest panes are at the end and most readings are recent: search backwards.
    let i = panes.length - 1;
    while (i >= 0 && panes[i]!.start > start) i--;
    if (i >= 0 && panes[i]!.start === start) return panes[i];
    if (panes.length >= this.options.maxPanesPerSeries) return undefined;
    const pooled = this.pool.pop();
    let pane: Pane;
    if (pooled === undefined) pane = new Pane(start);
    else {
      pooled.reset(start);
      pane = pooled;
    }
    if (i === panes.length - 1) {
      panes.push(pane);
      s.newest = pane;
    } else panes.splice(i + 1, 0, pane);
    return pane;
  }

  /** Evicts the least recently updated series after emitting its windows, if the policy allows. */
  private evictOldest(): boolean {
    if (!this.canEvict()) return false;
    const s = this.table.oldest()!;
    this.emitRange(s, this.closedBoundary, Infinity);
    const last = s.panes[s.panes.length - 1];
    if (last !== undefined) this.tombstones.set(seriesKey(s.device, s.metric), Math.max(last.start + this.options.lengthMs, s.minPaneStart));
    this.table.delete(s);
    this.sink.evicted();
    return true;
  }

  /**
   * Drops tombstones whose windows can no longer receive readings (they would be late or too
   * late): all of them (`full`, once per closed slide), or only from the oldest while they are
   * expired (O(1) amortised, on the eviction path).
   */
  private purgeTombstones(full: boolean): void {
    const horizon = this.reEmit ? this.options.lateHorizonMs : 0;
    for (const [key, until] of this.tombstones) {
      if (until + horizon <= this.closedBoundary) this.tombstones.delete(key);
      else if (!full) return;
    }
  }

  private close(boundary: number): void {
    const { lengthMs, lateHorizonMs } = this.options;
    const previous = this.closedBoundary;
    this.closedBoundary = boundary;
    // A pane is needed until the last window holding it (ending at start + length) is emitted, and
    // in re-emit mode until that window is beyond the correction horizon.
    const retainAfter = this.reEmit ? boundary - lateHorizonMs : boundary;
    this.table.forEach((s) => {
      this.emitRange(s, previous, boundary);
      const panes = s.panes;
      while (panes.length > 0 && panes[0]!.start + lengthMs <= retainAfter) {
        const done = panes.shift()!;
        if (done === s.newest) s.newest = undefined;
        if (this.pool.length < this.poolMax) this.pool.push(done);
      }
      if (s.revs !== undefined) for (const end of s.revs.keys()) if (end <= retainAfter) s.revs.delete(end);
      if (panes.length === 0) this.table.delete(s);
    });
    if (this.tombstones.size > 0) this.purgeTombstones(true);
    this.emittedUpTo = boundary;
  }

  /** Emits, in order of end, each window of `s` holding data whose end is in (after, upTo]. */
  private emitRange(s: Series, after: number, upTo: number): void {
    const { slideMs, lengthMs } = this.options;
    let next = after + slideMs;
    for (const pane of s.panes) {
      let end = Math.max(next, pane.start + slideMs);
      const last = Math.min(pane.start + lengthMs, upTo);
      for (; end <= last; end += slideMs) this.emitWindow(s, end);
      if (last + slideMs > next) next = last + slideMs;
    }
  }

  private emitWindow(s: Series, end: number): void {
    const { lengthMs, slideMs } = this.options;
    const start = end - lengthMs;
    const scratch = this.scratch;
    let agg: Pane | undefined;
    if (lengthMs === slideMs) {
      for (const pane of s.panes) if (pane.start === start) agg = pane;
    } else {
      scratch.clearAll();
      for (const pane of s.panes) {
        if (pane.start < start || pane.start >= end) continue;
        mergeInto(scratch, pane);
        scratch.outOfRange += pane.outOfRange;
        if (pane.sketch !== undefined) scratch.merged.merge(pane.sketch);
      }
      agg = scratch;
    }
    if (agg === undefined) return;
    const sketch = agg === scratch ? scratch.merged : agg.partial ? undefined : agg.sketch;
    let rev = 0;
    if (this.reEmit && agg.count > 0) {
      const revs = (s.revs ??= new Map());
      const previous = revs.get(end);
      rev = previous === undefined ? 0 : previous + 1;
      revs.set(end, rev);
    }
    const w = scratch.result(s, start, end, rev, agg, sketch);
    if (w !== undefined) this.sink.window(w);
    else if (agg.outOfRange > 0) this.sink.outOfRangeOnly();
  }
}

/** Panes kept for reuse at most: the smaller of maxSeries and this (each ≈ 0.2-1.2 KB with its sketch). */
const POOL_MAX = 1_024;

function seriesKey(device: string, metric: string): string {
  return `${device}\u0000${metric}`;
}
