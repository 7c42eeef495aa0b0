import type { FilterEvents, ReadingFilter } from './filter.js';
import { SeriesState } from './series-state.js';

interface Last {
  value: number;
  ts: number;
}

/**
 * Report by exception with a heartbeat: a reading passes when it differs from the series' last
 * passed reading by more than `delta`, or when that one is `heartbeatMs` old or older (event
 * time), so a steady series still reports now and then. State: two numbers per series.
 */
export function deadbandFilter(
  config: { delta: number; heartbeatMs: number; maxSeries: number },
  events: FilterEvents,
): ReadingFilter {
  const { delta, heartbeatMs } = config;
  const state = new SeriesState<Last>(
    config.maxSeries,
    () => ({ value: NaN, ts: -Infinity }),
    () => events.stateEvicted(),
  );
  return {
    kind: 'deadband',
    keep(device, metric, ts, value) {
      const last = state.get(device, metric);
      // NaN (no reading passed yet) compares false, and ts − (−∞) passes the heartbeat.
      if (Math.abs(value - last.value) > delta || ts - last.ts >= heartbeatMs) {
        last.value = value;
        last.ts = ts;
        return true;
      }
      return false;
    },
  };
}
