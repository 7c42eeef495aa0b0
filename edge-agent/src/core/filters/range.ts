import type { ReadingFilter } from './filter.js';

/** Keeps readings within [min, max], both inclusive: the sensor's physical or plausible range. Stateless. */
export function rangeFilter(config: { min: number; max: number }): ReadingFilter {
  const { min, max } = config;
  return { kind: 'range', keep: (_device, _metric, _ts, value) => value >= min && value <= max };
}
