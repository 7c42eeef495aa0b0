import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Regimes } from './regimes.js';
import { Slab } from './slab.js';

/** A series with `n` known levels, 100 apart, each visited enough to be established. */
function levels(n: number, slab = new Slab()): Regimes {
  const r = new Regimes(n, undefined, slab);
  for (let visit = 0; visit < 6; visit++) for (let l = 0; l < n; l++) r.learn(100 * l, 1, visit * n + l, 1e-6);
  return r;
}

test('levels are found by value, and a new level beyond the bound replaces the least recently visited', () => {
  const r = levels(3);
  assert.equal(r.count, 3);
  assert.equal(r.id(r.knownLevelOf(101, 1e-6)), 1);
  assert.equal(r.knownLevelOf(150, 1e-6), -1);
  // Level 0 is the least recently visited: a fourth level takes its place (and a new id).
  assert.equal(r.learn(1_000, 1, 100, 1e-6), 3);
  assert.deepEqual(
    r.snapshot().levels.map((l) => l.id),
    [1, 2, 3],
  );
});

test('at most 16 switches are remembered, the least recently learnt forgotten first, across a snapshot', () => {
  // 8 levels make 28 pairs; each learnt in turn (in a slab with another owner's region before them).
  const slab = new Slab();
  slab.alloc(40);
  const r = levels(8, slab);
  const pairs: [number, number][] = [];
  for (let a = 0; a < 8; a++) for (let b = a + 1; b < 8; b++) pairs.push([a, b]);
  for (const [a, b] of pairs.slice(0, 20)) r.learnSwitch(r.slotOf(b), r.slotOf(a));
  // Learnt again: the oldest remembered (the fifth) is now the newest.
  r.learnSwitch(r.slotOf(0), r.slotOf(5));
  const restored = new Regimes(8, JSON.parse(JSON.stringify(r.snapshot())));
  for (const x of [r, restored]) {
    const known = pairs.filter(([a, b]) => x.knownSwitch(x.slotOf(a), x.slotOf(b)));
    assert.deepEqual(known, pairs.slice(4, 20));
    assert.equal(x.snapshot().switches.at(-1), '0-5');
    x.learnSwitch(x.slotOf(6), x.slotOf(7));
    // The sixth pair (0-6) was the least recently learnt: it goes.
    assert.equal(x.knownSwitch(x.slotOf(0), x.slotOf(6)), false);
    assert.equal(x.knownSwitch(x.slotOf(0), x.slotOf(5)), true);
  }
  assert.deepEqual(restored.snapshot(), r.snapshot());
});
