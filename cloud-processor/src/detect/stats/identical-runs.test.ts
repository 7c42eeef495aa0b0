import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdenticalRuns } from './identical-runs.js';
import { Slab } from './slab.js';

test('identical runs: a series whose windows always vary holds no window of runs (no region of the slab) until its first run, which it then holds', () => {
  const slab = new Slab();
  const r = new IdenticalRuns(undefined, slab);
  for (let i = 0; i < 500; i++) r.see(false, 100, Number.POSITIVE_INFINITY);
  assert.deepEqual(r.snapshot().runs, []);
  assert.equal(r.longest(), undefined);
  assert.equal(slab.alloc(0), 0, 'the slab had no region before this one');
  r.see(true, 100, 10);
  r.see(false, 100, 10);
  assert.deepEqual(r.snapshot().runs, [1]);
  assert.equal(r.longest(), 1);
  // Restored from its snapshot (through JSON), it reads the same.
  const back = new IdenticalRuns(JSON.parse(JSON.stringify(r.snapshot())), new Slab());
  assert.equal(back.longest(), 1);
  assert.equal(back.stuckAfterRepeats(3, 0.01), r.stuckAfterRepeats(3, 0.01));
});
