import type { WindowResult } from '@tributary/firmware-schemas';
import { addReading, emptyAggregate, mergeInto, type Aggregate } from './aggregate.js';

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
}

/** What happened to one reading. Every value but `accepted` and `corrected` means it was not kept. */
export type AddOutcome = 'accepted' | 'corrected' | 'late' | 'too-late' | 'series-limit' | 'pane-limit';

/** A pane is one slide interval of one series; windows are unions of `lengthMs / slideMs` panes. */
interface Pane {
  readonly start: number;
  readonly agg: Aggregate;
}

interface Series {
  readonly device: string;
  readonly metric: string;
  /** Sorted by start; few (about (length + lateness) / slide), so arrays beat maps here. */
  panes: Pane[];
  /** Window ends already emitted once whose content changed since (re-emit mode). */
  dirtyEnds: Set<number> | undefined;
  /** Revision last emitted per window end, for corrections (re-emit mode only). */
  revs: Map<number, number> | undefined;
}

/**
 * Event-time windows aligned to the epoch (`start = floor(ts / slide) · slide`), tumbling or
 * sliding, built from panes so a reading costs O(1) and a window costs O(length / slide) once.
 *
 * The watermark is the newest event time seen minus the allowed lateness. A window [s, e) is
 * emitted once the watermark reaches e. A reading is late when the earliest window holding it has
 * already been emitted (ts < closed boundary); late readings are dropped or, in `re-emit` mode,
 * added to the retained pane and the affected windows are emitted again with `rev` + 1 (the whole
 * window, so a store that overwrites by series and time ends up right).
 *
 * Memory is bounded by `maxSeries` × `maxPanesPerSeries` aggregates. A series with no panes left
 * is forgotten, so `maxSeries` bounds series active within the lateness horizon.
 */
export class WindowEngine {
  private readonly series = new Map<string, Series>();
  private readonly dirtySeries = new Set<Series>();
  private maxEventTs = -Infinity;
  /** Every window ending at or before this has been emitted. A multiple of slideMs. */
  private closedBoundary = -Infinity;
  private lastTouched: Series | undefined;

  constructor(
    private readonly options: WindowEngineOptions,
    private readonly emit: (window: WindowResult) => void,
    /** Called after a series was evicted (evict-lru), its windows emitted first. */
    private readonly onEvicted: () => void = () => undefined,
  ) {
    if (options.lengthMs % options.slideMs !== 0) throw new RangeError('lengthMs must be a multiple of slideMs');
  }

  get activeSeries(): number {
    return this.series.size;
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
      if (this.options.lateReadings === 'drop') return 'late';
      if (paneStart + lengthMs <= this.closedBoundary - this.options.lateHorizonMs) return 'too-late';
    }

    const key = `${device}\u0000${metric}`;
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= this.options.maxSeries && !this.makeRoom()) return 'series-limit';
      s = { device, metric, panes: [], dirtyEnds: undefined, revs: undefined };
      this.series.set(key, s);
    } else if (this.options.onSeriesLimit === 'evict-lru' && s !== this.lastTouched) {
      // Re-inserting moves the series to the end of the map's order: the first entry is the LRU.
      this.series.delete(key);
      this.series.set(key, s);
    }
    this.lastTouched = s;

    const pane = this.paneFor(s, paneStart);
    if (pane === undefined) return 'pane-limit';
    addReading(pane.agg, ts, value);

    if (late) {
      // Every already-emitted window that holds this pane gets a corrected revision.
      for (let end = paneStart + slideMs; end <= paneStart + lengthMs && end <= this.closedBoundary; end += slideMs) {
        (s.dirtyEnds ??= new Set()).add(end);
      }
      this.dirtySeries.add(s);
      this.flushCorrections();
      return 'corrected';
    }
    if (ts > this.maxEventTs) {
      this.maxEventTs = ts;
      const boundary = Math.floor(this.watermark / slideMs) * slideMs;
      if (boundary > this.closedBoundary) this.close(boundary);
    }
    return 'accepted';
  }

  /** Emits every window that holds data and forgets all state: for shutdown and eviction. */
  flush(): void {
    this.flushCorrections();
    for (const s of this.series.values()) this.emitRange(s, this.closedBoundary, Infinity);
    this.series.clear();
    this.lastTouched = undefined;
  }

  private paneFor(s: Series, start: number): Pane | undefined {
    const panes = s.panes;
    // Newest panes are at the end and most readings are recent: search backwards.
    let i = panes.length - 1;
    while (i >= 0 && panes[i]!.start > start) i--;
    if (i >= 0 && panes[i]!.start === start) return panes[i];
    if (panes.length >= this.options.maxPanesPerSeries) return undefined;
    const pane = { start, agg: emptyAggregate() };
    panes.splice(i + 1, 0, pane);
    return pane;
  }

  /** Evicts the least recently updated series after emitting its windows, if the policy allows. */
  private makeRoom(): boolean {
    if (this.options.onSeriesLimit !== 'evict-lru') return false;
    const oldest = this.series.entries().next();
    if (oldest.done) return false;
    const [key, s] = oldest.value;
    this.emitRange(s, this.closedBoundary, Infinity);
    this.series.delete(key);
    this.dirtySeries.delete(s);
    this.onEvicted();
    return true;
  }

  private close(boundary: number): void {
    const { lengthMs, lateReadings, lateHorizonMs } = this.options;
    const previous = this.closedBoundary;
    this.closedBoundary = boundary;
    // A pane is needed until the last window holding it (ending at start + length) is emitted,
    // and in re-emit mode for the late horizon after that.
    const retainAfter = boundary - (lateReadings === 're-emit' ? lateHorizonMs : 0);
    for (const [key, s] of this.series) {
      this.emitRange(s, previous, boundary);
      let drop = 0;
      while (drop < s.panes.length && s.panes[drop]!.start + lengthMs <= retainAfter) drop++;
      if (drop > 0) s.panes.splice(0, drop);
      if (s.revs) for (const end of s.revs.keys()) if (end <= retainAfter - lengthMs) s.revs.delete(end);
      if (s.panes.length === 0) {
        this.series.delete(key);
        if (this.lastTouched === s) this.lastTouched = undefined;
      }
    }
  }

  /** Emits, in order of end, each window of `s` with data whose end is in (after, upTo]. */
  private emitRange(s: Series, after: number, upTo: number): void {
    const { slideMs, lengthMs } = this.options;
    const ends = new Set<number>();
    for (const pane of s.panes) {
      for (let end = pane.start + slideMs; end <= pane.start + lengthMs; end += slideMs) {
        if (end > after && end <= upTo) ends.add(end);
      }
    }
    for (const end of [...ends].sort((a, b) => a - b)) this.emitWindow(s, end);
  }

  private emitWindow(s: Series, end: number): void {
    const start = end - this.options.lengthMs;
    const agg = emptyAggregate();
    for (const pane of s.panes) if (pane.start >= start && pane.start < end) mergeInto(agg, pane.agg);
    if (agg.count === 0) return;
    let rev = 0;
    if (this.options.lateReadings === 're-emit') {
      const revs = (s.revs ??= new Map());
      const previous = revs.get(end);
      rev = previous === undefined ? 0 : previous + 1;
      revs.set(end, rev);
    }
    this.emit({
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
    });
  }

  private flushCorrections(): void {
    for (const s of this.dirtySeries) {
      if (s.dirtyEnds) for (const end of [...s.dirtyEnds].sort((a, b) => a - b)) this.emitWindow(s, end);
      s.dirtyEnds = undefined;
    }
    this.dirtySeries.clear();
  }
}
