import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Verdict } from '../detect/detector.js';
import { AlertLifecycle, openThreshold, type LifecycleOptions } from './lifecycle.js';

const options: LifecycleOptions = { resolveAfterWindows: 3, minOpenMs: 0, cooldownMs: 0, maxOpen: 100, recent: 10 };
const v = (level: number): Verdict => ({ score: level, value: 1, reason: `level ${level}` });
const W = 300_000;

/** Feeds levels one window apart and returns the transitions as `state@window`. */
function run(levels: number[], opts: Partial<LifecycleOptions> = {}, threshold = 0.5): string[] {
  const lc = new AlertLifecycle({ ...options, ...opts });
  const out: string[] = [];
  levels.forEach((level, i) => {
    const e = lc.observe('d', 'm', 'ensemble', v(level), i * W, threshold);
    if (e) out.push(`${e.state}@${i}/${e.severity}`);
  });
  return out;
}

const cases: Array<{
  name: string;
  levels: number[];
  opts?: Partial<LifecycleOptions>;
  threshold?: number;
  expect: string[];
}> = [
  {
    name: 'one anomaly opens once and resolves after three normal windows',
    levels: [0, 0.6, 0.6, 0.6, 0, 0, 0, 0],
    expect: ['opened@1/warning', 'resolved@6/warning'],
  },
  {
    name: 'a clearly worse anomaly is an update; a steady one is not',
    levels: [0.55, 0.56, 0.8, 0.8, 0, 0, 0],
    expect: ['opened@0/warning', 'updated@2/critical', 'resolved@6/critical'],
  },
  {
    name: 'hysteresis: a level above half the opening surprise keeps it open',
    levels: [0.6, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1],
    expect: ['opened@0/warning', 'resolved@7/warning'],
  },
  {
    name: 'a flicker inside the resolve delay does not re-open',
    levels: [0.6, 0, 0, 0.6, 0, 0, 0],
    expect: ['opened@0/warning', 'resolved@6/warning'],
  },
  {
    name: 'minimum open time holds the resolve back',
    levels: [0.6, 0, 0, 0, 0, 0, 0],
    opts: { minOpenMs: 5 * W },
    expect: ['opened@0/warning', 'resolved@5/warning'],
  },
  {
    name: 'cooldown: no re-open right after a resolve',
    levels: [0.6, 0, 0, 0, 0.6, 0.6, 0, 0.6],
    opts: { cooldownMs: 3 * W },
    expect: ['opened@0/warning', 'resolved@3/warning', 'opened@7/warning'],
  },
  {
    name: 'a higher sensitivity opens on a lower score',
    levels: [0.4, 0, 0, 0],
    threshold: openThreshold(2),
    expect: ['opened@0/warning', 'resolved@3/warning'],
  },
  { name: 'a lower sensitivity ignores it', levels: [0.4, 0, 0, 0], threshold: openThreshold(0.5), expect: [] },
];

for (const c of cases)
  test(`lifecycle: ${c.name}`, () => assert.deepEqual(run(c.levels, c.opts, c.threshold), c.expect));

test('lifecycle: alerts are kept apart per series and detector, and bounded', () => {
  const lc = new AlertLifecycle({ ...options, maxOpen: 2 });
  assert.ok(lc.observe('a', 'm', 'x', v(0.9), 0));
  assert.ok(lc.observe('a', 'm', 'y', v(0.9), 0), 'another detector on the same series is another alert');
  assert.equal(lc.observe('b', 'm', 'x', v(0.9), 0), undefined, 'over maxOpen: dropped');
  assert.equal(lc.dropped, 1);
  assert.equal(lc.observe('a', 'm', 'x', v(0.9), W), undefined, 'the same alert is not opened twice');
});

test('lifecycle: the level before a detector’s own de-duplication keeps an alert open', () => {
  const lc = new AlertLifecycle(options);
  lc.observe('d', 'm', 'e', v(0.9), 0);
  for (let i = 1; i <= 5; i++)
    assert.equal(
      lc.observe('d', 'm', 'e', { score: 0, level: 0.9, value: 1, reason: 'already reported' }, i * W),
      undefined,
    );
  assert.equal(lc.openCount, 1);
});

test('lifecycle: a snapshot restores open alerts and cooldowns', () => {
  const a = new AlertLifecycle({ ...options, cooldownMs: 10 * W });
  a.observe('d', 'm', 'e', v(0.9), 0);
  a.observe('d', 'm2', 'e', v(0.9), 0);
  for (let i = 1; i <= 3; i++) a.observe('d', 'm2', 'e', v(0), i * W);
  const b = new AlertLifecycle({ ...options, cooldownMs: 10 * W });
  b.restore(JSON.parse(JSON.stringify(a.snapshot())));
  assert.equal(b.openCount, 1);
  assert.equal(b.observe('d', 'm2', 'e', v(0.9), 5 * W), undefined, 'still cooling down');
  assert.equal(b.observe('d', 'm', 'e', v(0), 4 * W), undefined);
});

test('an alert opens on the score (the decision NAB scores), not on a level the detector did not report, and is held by the level', () => {
  const lc = new AlertLifecycle(options);
  // A repeat of one event the detector de-duplicated: score 0, level high. No alert.
  assert.equal(
    lc.observe('d', 'm', 'ensemble', { score: 0, level: 0.7, value: 1, reason: 'repeat' }, 0, 0.5),
    undefined,
  );
  const opened = lc.observe('d', 'm', 'ensemble', { score: 0.6, level: 0.6, value: 1, reason: 'news' }, W, 0.5);
  assert.equal(opened?.state, 'opened');
  // Persisting (level above the hold, nothing new to report): held through three windows, then resolved.
  for (let i = 2; i < 5; i++)
    assert.equal(
      lc.observe('d', 'm', 'ensemble', { score: 0, level: 0.45, value: 1, reason: 'still away' }, i * W, 0.5),
      undefined,
    );
  const states = [5, 6, 7].map(
    (i) => lc.observe('d', 'm', 'ensemble', { score: 0, level: 0, value: 1, reason: 'back' }, i * W, 0.5)?.state,
  );
  assert.deepEqual(states, [undefined, undefined, 'resolved']);
});
