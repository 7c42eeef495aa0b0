import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gaussian, prng } from '../synthetic.js';
import { MAD_TO_SIGMA } from '../detector.js';
import { QuantileChunks, robustSigma } from './quantile-chunks.js';

/** A chunk's quantile at rank r, as it is summarised (linear between order statistics). */
function quantileOf(xs: readonly number[], r: number): number {
  const s = [...xs].sort((a, b) => a - b).map(Math.fround);
  const pos = r * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (pos - lo) * (s[Math.min(s.length - 1, lo + 1)]! - s[lo]!);
}

const chunkOf = fc.array(fc.integer({ min: -1_000, max: 1_000 }), { minLength: 2, maxLength: 30 });

test("quantile chunks: the median read lies among the chunks' medians, and the MAD within the farthest quartile from it", () => {
  fc.assert(
    fc.property(fc.array(chunkOf, { minLength: 1, maxLength: 10 }), (chunks) => {
      const c = new QuantileChunks(chunks.length);
      for (const chunk of chunks) c.close(chunk);
      const medians = chunks.map((x) => quantileOf(x, 0.5));
      const mad = c.robustSigma() / MAD_TO_SIGMA;
      // Each chunk's CDF passes through its quartiles: beyond the farthest of them, half the mass is in.
      const lo = Math.min(...medians);
      const hi = Math.max(...medians);
      const reach = Math.max(...chunks.flatMap((x) => [quantileOf(x, 0.75) - lo, hi - quantileOf(x, 0.25)]));
      assert.ok(mad >= 0 && mad <= reach * (1 + 1e-6) + 1e-6, `${mad} > ${reach}`);
    }),
    { numRuns: 300 },
  );
});

test("quantile chunks: chunks holding the same values read a MAD between their quartiles' distances from it", () => {
  fc.assert(
    fc.property(chunkOf, fc.integer({ min: 1, max: 8 }), (xs, copies) => {
      const c = new QuantileChunks(copies);
      for (let k = 0; k < copies; k++) c.close(k % 2 === 0 ? xs : [...xs].reverse());
      const m = quantileOf(xs, 0.5);
      const below = m - quantileOf(xs, 0.25);
      const above = quantileOf(xs, 0.75) - m;
      const mad = c.robustSigma() / MAD_TO_SIGMA;
      const tol = 1e-6 * (1 + Math.abs(m) + Math.max(below, above));
      assert.ok(
        mad >= Math.min(below, above) - tol && mad <= Math.max(below, above) + tol,
        `${mad} not in [${below}, ${above}]`,
      );
    }),
    { numRuns: 300 },
  );
});

/** Changes of a day's wander: heavy-tailed, skewed, and with a noise level that moves over the days. */
const laws: Array<{ name: string; draw: (g: () => number, hour: number) => number }> = [
  { name: 'gaussian with rare jumps', draw: (g) => 0.3 * g() + (g() > 2.5 ? 3 * g() : 0) },
  { name: 'skewed (lognormal)', draw: (g) => Math.exp(0.8 * g()) },
  { name: 'noise rising and falling daily', draw: (g, hour) => (1 + 0.8 * Math.sin((2 * Math.PI * hour) / 24)) * g() },
];

for (const law of laws) {
  test(`quantile chunks, ${law.name}: the robust σ of three days of hourly chunks is the exact history's to within 4 %, of their hourly sums (60 overlapping a chunk) within 6 %`, () => {
    for (const seed of [1, 2, 3]) {
      const g = gaussian(prng(seed));
      const span = 60;
      const changes = new QuantileChunks(72);
      const sums = new QuantileChunks(72);
      const all: number[] = [];
      const allSums: number[] = [];
      for (let hour = 0; hour < 100; hour++) {
        const chunk = Array.from({ length: span }, () => law.draw(g, hour));
        all.push(...chunk);
        changes.close(chunk);
        if (all.length < 2 * span) continue;
        const s = chunk.map((_, j) =>
          all.slice(all.length - 2 * span + j + 1, all.length - span + j + 1).reduce((a, b) => a + b, 0),
        );
        allSums.push(...s);
        sums.close(s);
      }
      const exact = robustSigma(all.slice(-72 * span));
      assert.ok(
        Math.abs(changes.robustSigma() / exact - 1) < 0.04,
        `seed ${seed}: ${changes.robustSigma()} vs ${exact}`,
      );
      const exactSums = robustSigma(allSums.slice(-72 * span));
      assert.ok(
        Math.abs(sums.robustSigma() / exactSums - 1) < 0.06,
        `seed ${seed} sums: ${sums.robustSigma()} vs ${exactSums}`,
      );
    }
  });
}

test('quantile chunks: restored from a snapshot (through JSON), they hold and read the same, and go on the same', () => {
  const a = new QuantileChunks(5);
  const r = prng(4);
  for (let i = 0; i < 8; i++) a.close(Array.from({ length: 10 }, () => r()));
  const b = new QuantileChunks(5, JSON.parse(JSON.stringify(a.snapshot())));
  assert.equal(b.robustSigma(), a.robustSigma());
  for (let i = 0; i < 3; i++) {
    const chunk = Array.from({ length: 10 }, () => r());
    a.close(chunk);
    b.close(chunk);
    assert.equal(b.robustSigma(), a.robustSigma());
  }
  assert.deepEqual(b.snapshot(), a.snapshot());
});
