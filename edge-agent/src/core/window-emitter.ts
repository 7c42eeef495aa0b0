import { mergeInto } from './aggregate.js';
import { Pane, Series, WindowScratch } from './pane.js';
import type { WindowEngineOptions, WindowSink } from './window-engine.js';

/**
 * Turns a series' panes into window results for the engine's sink: a tumbling window is its pane,
 * a sliding one the merge of its panes (aggregate, out-of-range count and sketch). In `re-emit`
 * mode it numbers each window's emissions (`rev`).
 */
export class WindowEmitter {
  private readonly scratch: WindowScratch;
  private readonly reEmit: boolean;

  constructor(
    private readonly options: Pick<WindowEngineOptions, 'lengthMs' | 'slideMs' | 'sketchK' | 'lateReadings'>,
    private readonly sink: WindowSink,
  ) {
    this.scratch = new WindowScratch(options.sketchK);
    this.reEmit = options.lateReadings === 're-emit';
  }

  /** Emits, in order of end, each window of `s` holding data whose end is in (after, upTo]. */
  range(s: Series, after: number, upTo: number): void {
    const { slideMs, lengthMs } = this.options;
    let next = after + slideMs;
    for (const pane of s.panes) {
      let end = Math.max(next, pane.start + slideMs);
      const last = Math.min(pane.start + lengthMs, upTo);
      for (; end <= last; end += slideMs) this.window(s, end);
      if (last + slideMs > next) next = last + slideMs;
    }
  }

  /**
   * Emits the window of `s` ending at `end`, if it holds a reading or a reading the range filter
   * removed: one whose every reading was out of range is sent as such (count 0, its `outOfRange`,
   * no value statistics), so the cloud hears a glitching sensor rather than a silent one.
   */
  window(s: Series, end: number): void {
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
    if (agg === undefined || (agg.count === 0 && agg.outOfRange === 0)) return;
    const sketch = agg === scratch ? scratch.merged : agg.partial ? undefined : agg.sketch;
    let rev = 0;
    if (this.reEmit) {
      const revs = (s.revs ??= new Map());
      const previous = revs.get(end);
      rev = previous === undefined ? 0 : previous + 1;
      revs.set(end, rev);
    }
    this.sink.window(scratch.result(s, start, end, rev, agg, sketch));
    if (agg.count === 0) this.sink.outOfRangeOnly();
  }
}
