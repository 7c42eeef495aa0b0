import type { FilterConfig } from '@tributary/firmware-schemas';
import { dedupeFilter } from './dedupe.js';
import { deadbandFilter } from './deadband.js';
import type { FilterEvents, ReadingFilter } from './filter.js';
import { rangeFilter } from './range.js';
import { rateLimitFilter } from './rate-limit.js';
import { spikeFilter } from './spike.js';

/** Every pre-filter by its config `type`. */
const factories: {
  [T in FilterConfig['type']]: (config: Extract<FilterConfig, { type: T }>, events: FilterEvents) => ReadingFilter;
} = {
  range: rangeFilter,
  deadband: deadbandFilter,
  'rate-limit': rateLimitFilter,
  dedupe: dedupeFilter,
  spike: spikeFilter,
};

export function createFilter(config: FilterConfig, events: FilterEvents): ReadingFilter {
  return (factories[config.type] as (c: FilterConfig, e: FilterEvents) => ReadingFilter)(config, events);
}

const noEvents: FilterEvents = { stateEvicted: () => undefined };

/** The chain for each configured metric (by name, in a Map: names are the devices'), plus `default` for metrics without their own chain. */
export class FilterChains {
  private readonly chains = new Map<string, ReadingFilter[]>();
  private readonly fallback: ReadingFilter[];

  constructor(config: Readonly<Record<string, readonly FilterConfig[]>>, events: FilterEvents = noEvents) {
    for (const [metric, filters] of Object.entries(config)) {
      if (metric !== 'default')
        this.chains.set(
          metric,
          filters.map((f) => createFilter(f, events)),
        );
    }
    this.fallback = (Object.hasOwn(config, 'default') ? config.default! : []).map((f) => createFilter(f, events));
  }

  forMetric(metric: string): readonly ReadingFilter[] {
    return this.chains.get(metric) ?? this.fallback;
  }
}
