import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gaussian, prng } from '../synthetic.js';
import { Slab } from './slab.js';
import { CalibrationConfig, SurpriseMeter, TailCalibrator, type TailCalibratorState } from './tail-calibrator.js';
import { binMidLog2, binOf } from './tail-histogram.js';

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
      assert.deepEqual(r.snapshot(), c.snapshot());
    }),
    { numRuns: 100 },
  );
});

test('a calibrator holds only the runs of bins in use (deviations 40 octaves apart: under 128 bytes of its slab, where the range is 2.5 kB)', () => {
  const slab = new Slab();
  const meter = new SurpriseMeter(CalibrationConfig.parse({}), undefined, 60_000, slab);
  for (let i = 0; i < 100; i++) meter.judge(i % 2 === 0 ? 1e-6 * (1 + (i % 3) * 0.05) : 1e6 * (1 + (i % 3) * 0.05));
  assert.ok(slab.byteLength <= 128, `${slab.byteLength} bytes`);
});

/** The surprise from a snapshot's counts, walking every bin from the highest as a dense histogram would. */
function denseSurprise(state: TailCalibratorState, d: number, tailIndex: number): number {
  const counts = new Map(state.counts);
  const maxBin = Math.max(0, ...counts.keys());
  const db = binOf(d);
  const stop = 0.2 * state.total;
  let tail = 0;
  for (let b = maxBin; b > db; b--) tail += counts.get(b) ?? 0;
  if (tail < stop) {
    for (let b = Math.min(maxBin, db); b >= 1; b--) {
      const c = counts.get(b) ?? 0;
      if (c === 0) continue;
      const gap = Math.log2(d) - binMidLog2(b);
      if (gap > 4 && tail > 0) break;
      tail += gap <= 0 ? c : c * 2 ** (-tailIndex * gap);
      if (tail >= stop) break;
    }
  }
  return state.total <= 0 ? 0 : -Math.log10(Math.max(tail / state.total, 1e-300));
}

test('the surprise walked over the runs is the dense histogram walk, bit for bit', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(deviation, fc.constant(0)), { minLength: 1, maxLength: 300 }),
      deviation,
      (seen, d) => {
        const c = new TailCalibrator(50, 6);
        for (const x of seen) c.add(x);
        assert.equal(c.surprise(d), denseSurprise(c.snapshot(), d, 6));
      },
    ),
    { numRuns: 300 },
  );
});
