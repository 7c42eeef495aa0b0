import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMachine, MachineConfig } from './machine.js';

test('a device with more metrics than maxMetrics: the first ones are judged, the others counted as left out', () => {
  const m = createMachine(MachineConfig.parse({ maxMetrics: 4 })) as ReturnType<typeof createMachine> & { ignored: number };
  for (let i = 0; i < 10; i++) m.update(1_000 * i, new Map(Array.from({ length: 6 }, (_, k) => [`m${k}`, k + Math.sin(i + k)])));
  const state = m.snapshot() as { metrics: [string, unknown][]; cov: number[] };
  assert.deepEqual(state.metrics.map(([name]) => name), ['m0', 'm1', 'm2', 'm3']);
  assert.equal(state.cov.length, 16);
  assert.equal(m.ignored, 20);
});
