import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gaussian, prng } from '../synthetic.js';
import { TailCalibrator } from './tail-calibrator.js';

const deviation = fc.double({ min: 1e-6, max: 1e6, noNaN: true });

test('surprise never falls as the deviation grows', () => {
  fc.assert(
    fc.property(fc.array(deviation, { minLength: 1, maxLength: 300 }), deviation, deviation, (seen, a, b) => {
      const c = new TailCalibrator(1_000, 6);
      for (const x of seen) c.add(x);
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      assert.ok(c.surprise(hi) >= c.surprise(lo) - 1e-12, `S(${hi}) < S(${lo})`);
    }),
    { numRuns: 300 },
  );
});

test('an empty calibrator is never surprised; zero deviations never surprise', () => {
  const c = new TailCalibrator(1_000, 6);
  assert.equal(c.surprise(5), 0);
  c.add(1);
  assert.equal(c.surprise(0), 0);
});

test('within the data it is a smoothed, conservative empirical tail; beyond it, surprise keeps growing', () => {
  const c = new TailCalibrator(Infinity, 6);
  const g = gaussian(prng(5));
  for (let i = 0; i < 20_000; i++) c.add(Math.abs(g()));
  // Two-sided Gaussian tails: P(|Z| ≥ 1.645) = 0.1, 2.576 → 0.01, 3.291 → 0.001. Smaller samples
  // count (x / d)^α each, so the answer is never more surprised than the data, and not far less.
  for (const [d, empirical] of [
    [1.645, 1],
    [2.576, 2],
    [3.291, 3],
  ] as const) {
    const s = c.surprise(d);
    assert.ok(s <= empirical + 0.1 && s >= 0.6 * empirical, `S(${d}) = ${s}`);
  }
  const far = [5, 10, 20, 40].map((d) => c.surprise(d));
  for (let i = 1; i < far.length; i++) assert.ok(far[i]! > far[i - 1]! + 1, far.join(' '));
});

test('a snapshot restores the same answers', () => {
  fc.assert(
    fc.property(fc.array(deviation, { minLength: 1, maxLength: 200 }), deviation, (seen, d) => {
      const c = new TailCalibrator(500, 4);
      for (const x of seen) c.add(x);
      const r = new TailCalibrator(500, 4, JSON.parse(JSON.stringify(c.snapshot())));
      assert.equal(r.surprise(d), c.surprise(d));
      r.add(d);
      c.add(d);
      assert.equal(r.surprise(d * 2), c.surprise(d * 2));
    }),
    { numRuns: 100 },
  );
});
