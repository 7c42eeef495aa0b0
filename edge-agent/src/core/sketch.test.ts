import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { QuantileSketch } from './sketch.js';

const QS = [0.5, 0.9, 0.99];

/** Nearest-rank quantile of exact data: the smallest value with rank ≥ max(1, ⌈q·n⌉). */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

function sketchOf(values: readonly number[], k: number): QuantileSketch {
  const s = new QuantileSketch(k);
  for (const v of values) s.add(v);
  return s;
}

/** Largest |R̂(x) − R(x)| over every x in the data. */
function maxRankError(s: QuantileSketch, values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i + 1 < sorted.length && sorted[i + 1] === sorted[i]) continue;
    worst = Math.max(worst, Math.abs(s.rank(sorted[i]!) - (i + 1)));
  }
  return worst;
}

const exactCases = [
  { name: 'one reading', values: [4.5] },
  { name: 'ascending', values: Array.from({ length: 100 }, (_, i) => i) },
  { name: 'descending with ties', values: Array.from({ length: 127 }, (_, i) => Math.floor((127 - i) / 3)) },
  { name: 'negative and positive', values: [-3, 7, -1e9, 2.5, 0, 1e9, -0.5] },
];
for (const c of exactCases) {
  test(`below k readings the sketch is exact: ${c.name}`, () => {
    const s = sketchOf(c.values, 128);
    const out: number[] = [];
    s.quantiles(QS, out);
    const sorted = [...c.values].sort((a, b) => a - b);
    assert.deepEqual(
      out,
      QS.map((q) => exactQuantile(sorted, q)),
    );
    assert.equal(s.retained, c.values.length);
  });
}

test('an empty sketch answers NaN', () => {
  const out: number[] = [];
  new QuantileSketch(16).quantiles(QS, out);
  assert.ok(out.every(Number.isNaN));
});

test('the rank error stays within the documented bound, for any stream', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 3000 }),
      fc.constantFrom(8, 16, 32),
      (values, k) => {
        const s = sketchOf(values, k);
        assert.equal(s.count, values.length);
        assert.ok(maxRankError(s, values) <= QuantileSketch.rankErrorBound(values.length, k));
        // Memory: fewer than k items per level, ⌊log2(n/k)⌋ + 2 levels at most.
        assert.ok(s.retained <= k * (Math.floor(Math.log2(Math.max(1, values.length / k))) + 2));
      },
    ),
    { numRuns: 60 },
  );
});

test('merging keeps the bound, and both groupings of three sketches stay within it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: -500, max: 500 }), { maxLength: 400 }), { minLength: 3, maxLength: 3 }),
      fc.constantFrom(8, 16),
      (parts, k) => {
        const [a, b, c] = parts.map((p) => sketchOf(p, k)) as [QuantileSketch, QuantileSketch, QuantileSketch];
        const all = parts.flat();
        // (a ⊕ b) ⊕ c
        const left = new QuantileSketch(k);
        left.merge(a);
        left.merge(b);
        left.merge(c);
        // a ⊕ (b ⊕ c)
        const bc = new QuantileSketch(k);
        bc.merge(b);
        bc.merge(c);
        const right = new QuantileSketch(k);
        right.merge(a);
        right.merge(bc);
        for (const s of [left, right]) {
          assert.equal(s.count, all.length);
          assert.ok(maxRankError(s, all) <= QuantileSketch.rankErrorBound(all.length, k));
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('measured error is well inside the bound on a large stream (k = 128, n = 100,000)', () => {
  let seed = 1;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const values = Array.from(
    { length: 100_000 },
    () => 20 + 5 * Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random()),
  );
  const s = sketchOf(values, 128);
  const worst = maxRankError(s, values);
  const bound = QuantileSketch.rankErrorBound(values.length, 128);
  assert.ok(worst <= bound, `${worst} ≤ ${bound}`);
  // The bound is worst case (≈ 7.8 % of n here); on random data the error is far smaller.
  assert.ok(worst / values.length < 0.02, `measured rank error ${((100 * worst) / values.length).toFixed(2)} % of n`);
  assert.ok(s.retained <= 128 * 12);
});

test('a sketch cleared and reused (as a pane is, window after window) answers exactly as a new one', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 400 }), {
        minLength: 2,
        maxLength: 4,
      }),
      fc.constantFrom(8, 16, 128),
      (windows, k) => {
        const reused = new QuantileSketch(k);
        for (const values of windows) {
          reused.clear();
          for (const v of values) reused.add(v);
          const fresh = sketchOf(values, k);
          const a: number[] = [];
          const b: number[] = [];
          reused.quantiles(QS, a);
          fresh.quantiles(QS, b);
          assert.deepEqual(a, b);
          assert.equal(reused.retained, fresh.retained);
          assert.equal(reused.count, values.length);
        }
      },
    ),
    { numRuns: 60 },
  );
});
