import { hasReadings, type WindowResult } from '@tributary/firmware-schemas';
import { copyAggregate } from './aggregate.js';
import type { EventTimeState } from './event-time.js';
import { SeriesPanes } from './series-panes.js';

/**
 * The window engine's recovery-facing API, for a restart: where event time stands for the
 * write-ahead log's markers and back (`timeState`, `restoreTime`), readings logged before the last
 * spooled batch put back without moving a window (`rebuild`, see wal/recovery.ts), and windows a
 * clean stop flushed open taken back (`restore`). WindowEngine adds the live path on top; one
 * object, as SeriesPanes is, so none of it costs the hot path a hop.
 */
export abstract class RecoverablePanes extends SeriesPanes {
  /**
   * For the write-ahead log: where event time stands (every device above `complete` with `all`,
   * else the devices whose boundary moved since the last call). Asked between two calls of the
   * engine, when every window it closed has been handed to the sink.
   */
  timeState(all: boolean): EventTimeState {
    return this.time.state(all);
  }

  /** Takes a fresh engine back to where event time stood (see `timeState`), before `rebuild` and `add`. */
  restoreTime(state: EventTimeState): void {
    this.time.restoreState(state);
  }

  /**
   * Puts a logged reading back into its pane without moving any window (after `restoreTime`, for
   * the readings logged before the state's batch was sealed): one whose window was emitted is
   * left out. A reading the range filter removed (`value` undefined, see `noteOutOfRange`) is
   * counted as `outOfRange` and, as when it came, moves no event time nor takes a series slot that
   * only evicting would free (`noteOutOfRange`'s rule: garbage must not push a good series out,
   * after a restart either). Returns whether it was put back.
   */
  rebuild(device: string, metric: string, ts: number, value: number | undefined, now: number): boolean {
    const time = this.time;
    if (now > time.now) time.now = now;
    const closed = time.emittedUpTo(device);
    if (ts < closed) return false;
    if (
      value === undefined &&
      this.table.size >= this.options.maxSeries &&
      this.table.get(device, metric) === undefined
    )
      return false;
    const s = this.seriesFor(device, metric, closed);
    if (typeof s === 'string' || ts < s.minPaneStart) return false;
    const pane = this.paneAt(s, ts);
    if (pane === undefined) return false;
    if (value === undefined) {
      pane.outOfRange++;
      return true;
    }
    pane.add(ts, value, this.options.sketchK);
    if (ts > time.times[s.at]!) time.times[s.at] = ts;
    return true;
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
      if (w.end - w.start !== lengthMs || w.start % slideMs !== 0 || w.end <= this.time.emittedUpTo(w.device)) continue;
      const s = this.seriesFor(w.device, w.metric, this.time.closedOf(w.device));
      if (s === 'series-limit') continue;
      const pane = this.paneFor(s, w.start);
      if (pane === undefined || pane.count > 0 || pane.outOfRange > 0) continue;
      // A window of out-of-range readings only brings back their count; its pane's sketch is then whole.
      if (hasReadings(w)) {
        copyAggregate(pane, w);
        pane.partial = true;
      }
      pane.outOfRange = w.outOfRange ?? 0;
      restored++;
    }
    return restored;
  }
}
