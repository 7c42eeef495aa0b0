import type { FilterEvents, ReadingFilter } from './filter.js';
import { SeriesState } from './series-state.js';

interface Recent {
  values: Float64Array;
  /** Where the next reading goes. */
  next: number;
  full: boolean;
}

/**
 * A median spike filter: a reading further than `maxDeviation` from the median of the series'
 * previous `windowSize` readings is removed. Every reading, removed or not, enters the window, so a
 * genuine level shift passes once it holds half the window. The first `windowSize` readings of a
 * series pass. State: `windowSize` numbers per series.
 */
export function spikeFilter(
  config: { windowSize: number; maxDeviation: number; maxSeries: number },
  events: FilterEvents,
): ReadingFilter {
  const { windowSize: n, maxDeviation } = config;
  const state = new SeriesState<Recent>(
    config.maxSeries,
    () => ({ values: new Float64Array(n), next: 0, full: false }),
    () => events.stateEvicted(),
  );
  const sorted = new Float64Array(n);
  return {
    kind: 'spike',
    keep(device, metric, _ts, value) {
      const r = state.get(device, metric);
      let keep = true;
      if (r.full) {
        sorted.set(r.values);
        sorted.sort();
        const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
        keep = Math.abs(value - median) <= maxDeviation;
      }
      r.values[r.next] = value;
      r.next = (r.next + 1) % n;
      if (r.next === 0) r.full = true;
      return keep;
    },
  };
}
