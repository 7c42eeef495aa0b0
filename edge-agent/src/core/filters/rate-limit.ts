import type { FilterEvents, ReadingFilter } from './filter.js';
import { SeriesState } from './series-state.js';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per series on event time (so a replay is limited as the live run was):
 * `readingsPerS` sustained, up to `burst` at once. Readings older than the newest one seen add
 * no tokens. State: two numbers per series.
 */
export function rateLimitFilter(
  config: { readingsPerS: number; burst: number; maxSeries: number },
  events: FilterEvents,
): ReadingFilter {
  const { burst } = config;
  const perMs = config.readingsPerS / 1000;
  const state = new SeriesState<Bucket>(
    config.maxSeries,
    () => ({ tokens: burst, at: Infinity }),
    () => events.stateEvicted(),
  );
  return {
    kind: 'rate-limit',
    keep(device, metric, ts) {
      const b = state.get(device, metric);
      if (b.at === Infinity) b.at = ts;
      else if (ts > b.at) {
        b.tokens = Math.min(burst, b.tokens + (ts - b.at) * perMs);
        b.at = ts;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return true;
      }
      return false;
    },
  };
}
