import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Throttle } from './throttle.js';

test('a throttle lets the first through, then one per interval', () => {
  const t = new Throttle(10_000);
  assert.deepEqual(
    [0, 1, 9_999, 10_000, 15_000, 20_000].map((now) => t.ready(now)),
    [true, false, false, true, false, true],
  );
});
