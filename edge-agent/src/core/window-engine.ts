import type { AgentConfig, WindowResult } from '@tributary/firmware-schemas';
import type { DeviceClock } from './event-time.js';
import type { Series } from './pane.js';
import { RecoverablePanes } from './recoverable-panes.js';

export interface WindowEngineOptions {
  readonly lengthMs: number;
  /** Equal to lengthMs for tumbling windows; lengthMs must be a multiple of it. */
  readonly slideMs: number;
  readonly allowedLatenessMs: number;
  /**
   * How far a device's event time may trail the agent's (readings stamped further behind are
   * late), and how long no reading may advance it before its windows close by the agent clock.
   */
  readonly idleAfterMs: number;
  readonly maxSeries: number;
  readonly onSeriesLimit: 'reject-new' | 'evict-lru';
  readonly lateReadings: 'drop' | 're-emit';
  readonly lateHorizonMs: number;
  readonly maxPanesPerSeries: number;
  /** Items per level of each pane's quantile sketch (see sketch.ts). */
  readonly sketchK: number;
}

/** Where the engine's output and events go. Called synchronously from `add`, `tick`, `noteOutOfRange` and `flush`. */
export interface WindowSink {
  /** One window result; a correction (`rev` > 0) carries the whole window. */
  window(w: WindowResult): void;
  /** A series was evicted (evict-lru) after its windows were emitted. */
  evicted(): void;
  /** The window just given to `window` held only readings the range filter removed (count 0, its `outOfRange`). */
  outOfRangeOnly(): void;
  /** A device clock was forgotten at the bound (see DeviceClocks). */
  deviceForgotten?(): void;
}

/**
 * What happened to one reading. Every value but `accepted` and `corrected` means it was not kept:
 * `late` (its window was emitted; drop mode), `too-late` (beyond the correction horizon),
 * `series-limit` (a new series over maxSeries), `pane-limit` (over maxPanesPerSeries),
 * `evicted-window` (its window was emitted when its series was evicted: accepting it would emit
 * the window again with part of its readings, overwriting the first emission downstream).
 */
export type AddOutcome =
  | 'accepted'
  | 'corrected'
  | 'late'
  | 'too-late'
  | 'series-limit'
  | 'pane-limit'
  | 'evicted-window';

/**
 * Event-time windows aligned to the epoch (`start = floor(ts / slide) · slide`), tumbling or
 * sliding, built from panes so a reading costs O(1) and a window costs O(length / slide) once.
 *
 * Event time progresses per device (DESIGN.md, "Event time"), so one device's clock never makes
 * another's readings late. A device's watermark is its newest event time minus the allowed
 * lateness; once it reaches a window's end, the device's windows up to there are emitted (its
 * `closed` boundary). A reading is late when a window holding it has been emitted (ts < closed).
 * Late readings are dropped or, in `re-emit` mode, added to their retained pane when every window
 * holding them ends less than `lateHorizonMs` before the boundary (otherwise they are too late),
 * and each of those windows already emitted is emitted again whole with `rev` + 1.
 *
 * Devices are moved on by the agent's clocks (see EventTime): one whose readings trail the agent's
 * event time by more than `idleAfterMs` has them judged late, and one whose event time no reading
 * advanced for `idleAfterMs` of agent clock has its boundary follow that clock at each `tick`, so
 * its last windows close on time when readings stop. The agent's `complete` (the lowest device
 * boundary, which the cloud judges silence against) trails the agent clock by a bounded amount.
 *
 * Memory: at most `maxSeries` series × `maxPanesPerSeries` panes, each pane O(1) plus its
 * sketch; a series with no pane left is forgotten; at most `maxSeries` device clocks (see
 * EventTime for the policy). At `maxSeries`, `reject-new` refuses new series and `evict-lru`
 * emits the least recently updated series' windows and forgets it, keeping a tombstone (at most
 * `maxSeries` of them, until its windows could no longer change) so that readings for windows it
 * already emitted are refused (`evicted-window`) instead of producing a second, partial emission
 * of the same window.
 */
export class WindowEngine extends RecoverablePanes {
  get allowedLatenessMs(): number {
    return this.options.allowedLatenessMs;
  }

  /** A device's own watermark (its newest timestamp minus the allowed lateness); -Infinity for a device it does not know. */
  watermarkOf(device: string): number {
    return (this.time.get(device)?.eventTs ?? -Infinity) - this.options.allowedLatenessMs;
  }

  /** Before this a reading of `device` is late: its boundary, or for a device not known, where unknown devices start. */
  closedOf(device: string): number {
    return this.time.closedOf(device);
  }

  /** Every window of `device` ending at or before this has been emitted (its boundary, not yet moved to the agent's event time). */
  emittedUpTo(device: string): number {
    return this.time.emittedUpTo(device);
  }

  /**
   * Adds one reading that arrived at agent time `now`, emitting any windows of its device that
   * its advanced event time closes. The common case (a known series, on time) is kept as small as
   * the single-watermark engine's was, so V8 still inlines it into the pipeline: everything else
   * is in `addSlow` and `advanced` (measured: a larger `add` cost the core bench 20 %).
   */
  add(device: string, metric: string, ts: number, value: number, now: number): AddOutcome {
    const s = this.table.get(device, metric);
    const time = this.time;
    const times = time.times;
    if (s === undefined || ts < times[s.at + 1]! || times[s.at + 1]! < time.lowest)
      return this.addSlow(device, metric, ts, value, now);
    if (this.lru) this.table.touch(s);
    // No double computed here is passed to a call: if V8 does not inline the callee, it boxes it (an allocation per reading).
    if (ts < s.minPaneStart) return 'evicted-window'; // minPaneStart is a multiple of the slide
    const pane = this.paneAt(s, ts);
    if (pane === undefined) return 'pane-limit';
    pane.add(ts, value, this.options.sketchK);
    if (ts > times[s.at]!) this.advanced(s, ts, now);
    return 'accepted';
  }

  /** A reading accepted on time advanced its device's event time: move the agent's, close what is due. */
  private advanced(s: Series, ts: number, now: number): void {
    const time = this.time;
    if (now > time.now) time.now = now;
    if (time.advance(s.at, ts, now)) this.closeDevice(s.clock, time.boundaryFor(ts));
  }

  /** `add` for a new series, a device the agent's event time moves on first, or a late reading. */
  private addSlow(device: string, metric: string, ts: number, value: number, now: number): AddOutcome {
    const { slideMs, lengthMs } = this.options;
    const time = this.time;
    if (now > time.now) time.now = now;
    let s = this.table.get(device, metric);
    const d = s !== undefined ? s.clock : time.get(device);
    if (d !== undefined && d.closed < time.lowest) {
      this.closeDevice(d, time.lowest);
      s = this.table.get(device, metric); // the close may have retired the series
    }
    const closed = d !== undefined ? d.closed : time.unknownFloor();
    const paneStart = Math.floor(ts / slideMs) * slideMs;
    const late = ts < closed;
    if (late) {
      if (!this.reEmit) return 'late';
      // Accepted only if every window holding it can still be corrected, so it counts everywhere it belongs.
      if (paneStart + slideMs <= closed - this.options.lateHorizonMs) return 'too-late';
    }
    if (s === undefined) {
      const made = this.seriesFor(device, metric, closed);
      if (typeof made === 'string') return made;
      s = made;
    } else if (this.lru) this.table.touch(s);
    if (paneStart < s.minPaneStart) return 'evicted-window';
    const pane = this.paneFor(s, paneStart);
    if (pane === undefined) return 'pane-limit';
    pane.add(ts, value, this.options.sketchK);
    if (!late) {
      this.advanced(s, ts, now);
      return 'accepted';
    }
    // Re-emit every emitted window holding this pane (all within the horizon, see above).
    for (let end = paneStart + slideMs; end <= paneStart + lengthMs && end <= closed; end += slideMs)
      this.emitter.window(s, end);
    return 'corrected';
  }

  /**
   * Called on a timer with the agent clock: moves devices that trail the agent's event time or are
   * idle on (emitting what that closes) and advances `complete` (see EventTime.tick). O(devices).
   */
  tick(now: number): void {
    this.time.tick(now, (d, boundary) => this.closeDevice(d, boundary));
    if (this.tombstones.size > 0) this.purgeTombstones(true);
  }

  /**
   * Counts a reading the range filter removed against its pane, so the windows holding it carry
   * `outOfRange`. Only for open windows, and for series that exist or fit under maxSeries without
   * evicting one (a device sending garbage must not push good series out). It does not move the
   * watermark. Returns whether it was counted.
   */
  noteOutOfRange(device: string, metric: string, ts: number): boolean {
    const closed = this.closedOf(device);
    if (ts < closed) return false;
    const slideMs = this.options.slideMs;
    if (this.table.size >= this.options.maxSeries && this.table.get(device, metric) === undefined) return false;
    const s = this.seriesFor(device, metric, closed);
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
   * batches before it, holds all of them): the cloud judges silence against it. The lowest device
   * boundary as of the last `tick`, never past the agent clock minus the lateness; -Infinity at first.
   */
  get complete(): number {
    return this.time.complete;
  }

  /** Readings may have been held up until `now` (restart, reconnect): idle progress waits idleAfterMs from here. */
  resume(now: number): void {
    this.time.resume(now);
  }

  /**
   * Emits every window that holds data and forgets all state: for shutdown. `complete` then
   * covers the windows emitted, up to the end of the window holding the agent clock.
   */
  flush(): void {
    const lengthMs = this.options.lengthMs;
    let last = -Infinity;
    this.table.forEach((s) => {
      const newest = s.panes.at(-1);
      if (newest) last = Math.max(last, newest.start + lengthMs);
      this.emitter.range(s, s.clock.closed, Infinity);
    });
    this.time.flushed(last, lengthMs);
    this.table.clear();
    this.tombstones.clear();
  }

  /** Moves a device's boundary to `boundary` (later than its own), emitting the windows of its series that end up to there. */
  private closeDevice(d: DeviceClock, boundary: number): void {
    const { lengthMs, lateHorizonMs } = this.options;
    const previous = d.closed;
    // A pane is needed until the last window holding it (ending at start + length) is emitted, and
    // in re-emit mode until that window is beyond the correction horizon.
    const retainAfter = this.reEmit ? boundary - lateHorizonMs : boundary;
    const all = d.series;
    let kept = 0;
    for (let i = 0; i < all.length; i++) {
      const s = all[i]!;
      this.emitter.range(s, previous, boundary);
      const panes = s.panes;
      while (panes.length > 0 && panes[0]!.start + lengthMs <= retainAfter) {
        const done = panes.shift()!;
        if (done === s.newest) s.newest = undefined;
        if (this.pool.length < this.poolMax) this.pool.push(done);
      }
      if (s.revs !== undefined) for (const end of s.revs.keys()) if (end <= retainAfter) s.revs.delete(end);
      if (panes.length === 0) this.table.delete(s);
      else all[kept++] = s;
    }
    if (kept < all.length) {
      all.length = kept;
      this.time.seriesRemoved(d);
    }
    // Set once its windows are out: `complete` must never count a boundary whose windows are still being emitted.
    d.closed = boundary;
    this.time.closedMoved(d);
  }
}

/** The engine's options from the agent config's `windows`, with the defaults that depend on other keys filled in. */
export function windowEngineOptions(w: AgentConfig['windows']): WindowEngineOptions {
  return { ...w, slideMs: w.slideMs ?? w.lengthMs, idleAfterMs: w.idleAfterMs ?? w.lengthMs + w.allowedLatenessMs };
}
