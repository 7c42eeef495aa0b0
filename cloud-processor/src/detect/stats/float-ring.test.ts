import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FloatRing } from './float-ring.js';

test('float ring: keeps the last values in order as it grows and wraps, and resumes from its snapshot', () => {
  const ring = new FloatRing(100);
  for (let i = 0; i < 250; i++) ring.push(i / 4);
  assert.equal(ring.length, 100);
  assert.deepEqual(
    [...ring.ordered()],
    Array.from({ length: 100 }, (_, k) => (150 + k) / 4),
  );
  const resumed = new FloatRing(100, ring.snapshot());
  resumed.push(1000);
  ring.push(1000);
  assert.deepEqual([...resumed.ordered()], [...ring.ordered()]);
  // A snapshot of a longer ring keeps its newest values.
  assert.deepEqual([...new FloatRing(3, ring.snapshot()).ordered()], [...ring.ordered()].slice(-3));
});
