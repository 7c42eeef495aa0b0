import type { Reading, ReadingFilter } from './filter.js';

/** Keeps readings within [min, max], both inclusive: the sensor's physical or plausible range. */
export function rangeFilter(config: { min: number; max: number }): ReadingFilter {
  const { min, max } = config;
  return { name: 'range', keep: (r: Reading) => r.value >= min && r.value <= max };
}
