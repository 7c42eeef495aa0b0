import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LevelTracker } from './level-tracker.js';

test('a series held to the level it left stays as far from it as it is: a fault that slid in is not carried on along the slide', () => {
  // One reading a second: steady at 32 for 5 minutes, sliding to 30 over 40 s (a valve closing),
  // frozen when the slide is done (the alarm), then kept at 30 for 6 minutes.
  const level = new LevelTracker(10_000, 120_000);
  const valueAt = (i: number): number => (i < 300 ? 32 : i < 340 ? 32 - (2 * (i - 300)) / 40 : 30);
  let i = 0;
  for (; i < 340; i++) {
    level.observe(i * 1_000, valueAt(i));
    level.follow(i * 1_000);
  }
  level.freeze(i * 1_000);
  const atFreeze = level.expected();
  const residuals: number[] = [];
  for (; i < 700; i++) residuals.push(level.observe(i * 1_000, valueAt(i)));
  // The level it left lies above the fault (the baseline followed part of the slide), and stays there.
  assert.ok(atFreeze > 30.5, `expected level at the freeze ${atFreeze.toFixed(2)}`);
  assert.equal(level.expected(), atFreeze);
  const last = residuals.at(-1)!;
  assert.ok(
    Math.abs(last - (30 - atFreeze)) < 0.01,
    `after 6 minutes away the residual is ${last.toFixed(2)}, the distance to the level left ${(30 - atFreeze).toFixed(2)}`,
  );
});
