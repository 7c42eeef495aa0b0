import { EventTime } from './event-time.js';
import { Pane, Series } from './pane.js';
import { SeriesTable } from './series-table.js';
import { Tombstones } from './tombstones.js';
import { WindowEmitter } from './window-emitter.js';
import type { WindowEngineOptions, WindowSink } from './window-engine.js';

/** Panes kept for reuse at most: the smaller of maxSeries and this (each ≈ 0.2-1.2 KB with its sketch). */
const POOL_MAX = 1_024;

/**
 * The window engine's storage: its series (at most `maxSeries`, with the `reject-new` or
 * `evict-lru` policy and the tombstones of evicted series), their panes (from a pool), and the
 * device clocks they hang on. WindowEngine adds event time and windows on top; one object, so the
 * hot path reaches all of it without a hop.
 */
export abstract class SeriesPanes {
  protected readonly table = new SeriesTable<Series>();
  protected readonly time: EventTime;
  protected readonly tombstones = new Tombstones();
  protected readonly emitter: WindowEmitter;
  /**
   * Panes of emitted windows, kept for reuse (with their sketch buffers) so steady state allocates
   * no panes: they would otherwise live a window's length, get promoted and cost major GCs.
   * Bounded by min(maxSeries, POOL_MAX).
   */
  protected readonly pool: Pane[] = [];
  protected readonly poolMax: number;
  protected readonly reEmit: boolean;
  protected readonly lru: boolean;
  /** Given to panes made from now on (the write-ahead log's segment, see `oldestOpenTag`). */
  walTag = 0;

  constructor(
    protected readonly options: WindowEngineOptions,
    protected readonly sink: WindowSink,
  ) {
    if (options.lengthMs % options.slideMs !== 0) throw new RangeError('lengthMs must be a multiple of slideMs');
    this.emitter = new WindowEmitter(options, sink);
    this.poolMax = Math.min(options.maxSeries, POOL_MAX);
    this.reEmit = options.lateReadings === 're-emit';
    this.lru = options.onSeriesLimit === 'evict-lru';
    this.time = new EventTime({ ...options, maxDevices: options.maxSeries }, () => sink.deviceForgotten?.());
  }

  get activeSeries(): number {
    return this.table.size;
  }

  /** Device clocks held (devices with open windows, and a few without, see EventTime). */
  get devices(): number {
    return this.time.size;
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

  /**
   * The oldest `walTag` of a pane holding a window not yet emitted (Infinity if none): the
   * write-ahead log's segments before it hold no reading a crash would need. O(panes).
   */
  oldestOpenTag(): number {
    let oldest = Infinity;
    const lengthMs = this.options.lengthMs;
    this.table.forEach((s) => {
      const closed = s.clock.closed;
      for (const pane of s.panes) if (pane.start + lengthMs > closed && pane.tag < oldest) oldest = pane.tag;
    });
    return oldest;
  }

  /** The series of (device, metric), made if new (a new device's clock starts at `closed`). */
  protected seriesFor(device: string, metric: string, closed: number): Series | 'series-limit' {
    let s = this.table.get(device, metric);
    if (s !== undefined) {
      if (this.lru) this.table.touch(s);
      return s;
    }
    if (this.table.size >= this.options.maxSeries && !this.evictOldest()) return 'series-limit';
    const clock = this.time.obtain(device, closed);
    s = new Series(device, metric, clock);
    const until = this.tombstones.until(device, metric);
    if (until !== undefined) s.minPaneStart = until;
    this.table.insert(s);
    this.time.seriesAdded(clock, s);
    return s;
  }

  /** The pane of `s` holding time `ts`: most often its newest, told without a division. */
  protected paneAt(s: Series, ts: number): Pane | undefined {
    const slideMs = this.options.slideMs;
    const newest = s.newest;
    if (newest !== undefined && ts >= newest.start && ts < newest.start + slideMs) return newest;
    return this.paneFor(s, Math.floor(ts / slideMs) * slideMs);
  }

  protected paneFor(s: Series, start: number): Pane | undefined {
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
    pane.tag = this.walTag;
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
    this.emitter.range(s, s.clock.closed, Infinity);
    const last = s.panes[s.panes.length - 1];
    if (last !== undefined)
      this.tombstones.set(s.device, s.metric, Math.max(last.start + this.options.lengthMs, s.minPaneStart));
    this.deleteSeries(s);
    this.sink.evicted();
    return true;
  }

  protected deleteSeries(s: Series): void {
    this.table.delete(s);
    const all = s.clock.series;
    all.splice(all.indexOf(s), 1);
    this.time.seriesRemoved(s.clock);
  }

  protected purgeTombstones(full: boolean): void {
    this.tombstones.purge((device) => this.time.closedOf(device), this.reEmit ? this.options.lateHorizonMs : 0, full);
  }
}
