import type { FilterConfig } from '@tributary/firmware-schemas';
import type { ReadingFilter } from './filter.js';
import { rangeFilter } from './range.js';

/** Every pre-filter by its config `type`. */
const factories: { [T in FilterConfig['type']]: (config: Extract<FilterConfig, { type: T }>) => ReadingFilter } = {
  range: rangeFilter,
};

export function createFilter(config: FilterConfig): ReadingFilter {
  return (factories[config.type] as (c: FilterConfig) => ReadingFilter)(config);
}

/** The chain for each configured metric, plus `default` for metrics without their own chain. */
export class FilterChains {
  private readonly chains = new Map<string, ReadingFilter[]>();
  private readonly fallback: ReadingFilter[];

  constructor(config: Readonly<Record<string, readonly FilterConfig[]>>) {
    for (const [metric, filters] of Object.entries(config)) {
      if (metric !== 'default') this.chains.set(metric, filters.map(createFilter));
    }
    this.fallback = (config.default ?? []).map(createFilter);
  }

  forMetric(metric: string): readonly ReadingFilter[] {
    return this.chains.get(metric) ?? this.fallback;
  }
}
