import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FilterConfig } from '@tributary/firmware-schemas';
import { FilterConfig as FilterConfigSchema } from '@tributary/firmware-schemas';
import { createFilter } from './registry.js';

/** One reading: [device, ts, value, seq?, stamped?]; the metric is `t`. */
type In = readonly [string, number, number, number?, boolean?];

const cases: { name: string; config: unknown; inputs: In[]; kept: boolean[]; evictions?: number }[] = [
  {
    name: 'range keeps [min, max] inclusive',
    config: { type: 'range', min: -1, max: 1 },
    inputs: [
      ['a', 0, -1],
      ['a', 1, 1],
      ['a', 2, 1.0001],
      ['a', 3, -2],
    ],
    kept: [true, true, false, false],
  },
  {
    name: 'deadband passes changes beyond delta and a heartbeat after silence',
    config: { type: 'deadband', delta: 0.5, heartbeatMs: 10_000 },
    inputs: [
      ['a', 0, 20],
      ['a', 1_000, 20.4],
      ['a', 2_000, 20.6],
      ['a', 3_000, 20.2],
      ['a', 12_000, 20.6],
      ['a', 12_500, 20.6],
      ['b', 12_600, 20.6],
    ],
    kept: [true, false, true, false, true, false, true],
  },
  {
    name: 'deadband of 0 passes any change and drops exact repeats',
    config: { type: 'deadband', delta: 0, heartbeatMs: 60_000 },
    inputs: [
      ['a', 0, 1],
      ['a', 1, 1],
      ['a', 2, 1.5],
      ['a', 3, 1.5],
    ],
    kept: [true, false, true, false],
  },
  {
    name: 'rate-limit: a token bucket per series on event time',
    config: { type: 'rate-limit', readingsPerS: 1, burst: 2 },
    inputs: [
      ['a', 0, 1],
      ['a', 100, 1],
      ['a', 200, 1],
      ['b', 200, 1],
      ['a', 1_200, 1],
      ['a', 1_300, 1],
      ['a', 500, 1],
    ],
    kept: [true, true, false, true, true, false, false],
  },
  {
    name: 'dedupe drops a (device, seq) seen before, keeps out-of-order new ones and readings without seq',
    config: { type: 'dedupe', windowSize: 8 },
    inputs: [
      ['a', 1, 1, 1],
      ['a', 3, 1, 3],
      ['a', 2, 1, 2],
      ['a', 3, 1, 3],
      ['a', 1, 1, 1],
      ['b', 1, 1, 1],
      ['a', 6, 1],
      ['a', 7, 1],
    ],
    kept: [true, true, true, false, false, true, true, true],
  },
  {
    name: 'dedupe: a seq far below the window, or lower with a newer timestamp, is a device restart',
    config: { type: 'dedupe', windowSize: 4 },
    inputs: [
      ['a', 0, 1, 100, true],
      ['a', 1, 1, 50, true],
      ['a', 2, 1, 50, true],
      ['a', 10, 1, 49, true],
      ['a', 5, 1, 49, true],
    ],
    kept: [true, true, false, true, false],
  },
  {
    name: 'dedupe: a jump beyond the window forgets the old seqs',
    config: { type: 'dedupe', windowSize: 4 },
    inputs: [
      ['a', 0, 1, 1, false],
      ['a', 1, 1, 2, false],
      ['a', 2, 1, 10, false],
      ['a', 3, 1, 9, false],
      ['a', 4, 1, 10, false],
    ],
    kept: [true, true, true, true, false],
  },
  {
    name: 'spike removes a reading far from the median of the previous N, and follows a level shift',
    config: { type: 'spike', windowSize: 3, maxDeviation: 5 },
    inputs: [
      ['a', 0, 10],
      ['a', 1, 11],
      ['a', 2, 10],
      ['a', 3, 100],
      ['a', 4, 11],
      ['a', 5, 10],
      ['a', 6, 50],
      ['a', 7, 51],
      ['a', 8, 50],
      ['a', 9, 52],
    ],
    kept: [true, true, true, false, true, true, false, false, true, true],
  },
  {
    name: 'filter state is bounded: the least recently updated series is forgotten',
    config: { type: 'deadband', delta: 1, heartbeatMs: 60_000, maxSeries: 2 },
    inputs: [
      ['a', 0, 1],
      ['b', 1, 1],
      ['a', 2, 1],
      ['c', 3, 1],
      ['b', 4, 1],
      ['a', 5, 1],
    ],
    kept: [true, true, false, true, true, true],
    evictions: 3,
  },
];

for (const c of cases) {
  test(`filter: ${c.name}`, () => {
    const config: FilterConfig = FilterConfigSchema.parse(c.config);
    let evictions = 0;
    const filter = createFilter(config, { stateEvicted: () => evictions++ });
    const kept = c.inputs.map(([device, ts, value, seq, stamped]) =>
      filter.keep(device, 't', 1_700_000_000_000 + ts, value, seq, stamped ?? true),
    );
    assert.deepEqual(kept, c.kept);
    assert.equal(evictions, c.evictions ?? 0);
  });
}
