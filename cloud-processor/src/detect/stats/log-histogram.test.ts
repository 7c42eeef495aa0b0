import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeFloats, encodeFloats } from './float-ring.js';
import { LogHistogram } from './log-histogram.js';
import { RecentValues } from './recent-values.js';
import { Slab } from './slab.js';
import { prng } from '../synthetic.js';

const FLOOR = -6;
/** The bin a value falls in (log-histogram.ts: 16 an octave, one bin within 2^FLOOR of zero). */
const binOf = (x: number): number => {
  const l = Math.log2(Math.abs(x)) - FLOOR;
  return !(l >= 0) ? 0 : Math.sign(x) * (Math.floor(l * 16) + 1);
};
const values = fc.array(
  fc.oneof(
    // Within the 20 octaves each side of zero a histogram holds (wider ranges fold: the test below).
    fc.double({ min: -1e4, max: 1e4, noNaN: true }),
    fc.double({ min: -2, max: 2, noNaN: true }),
    fc.integer({ min: -5, max: 5 }),
  ),
  { minLength: 1, maxLength: 300 },
);

test('log histogram, no fading: every quantile lies in the bin of the exact order statistic of its rank (within 4.4 %, or 2^floor of zero)', () => {
  fc.assert(
    fc.property(values, fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
      const h = new LogHistogram(Infinity, FLOOR);
      for (const x of xs) h.push(x);
      const sorted = [...xs].sort((a, b) => a - b);
      // Read as order statistics (a value's mass centred on it): the rank of q (n − 1), 0-based.
      const rank = Math.max(1, Math.ceil(q * (xs.length - 1) + 0.5)); // 1-based
      const exact = sorted[rank - 1]!;
      const got = h.quantile(q, 1);
      const bin = binOf(exact);
      // At a bin's edge the answer is its boundary, which the next bin's key names: allow either side.
      assert.ok(
        Math.abs(binOf(got) - bin) <= 1 && (bin !== 0 || Math.abs(got) <= 2 ** (FLOOR + 1)),
        `q ${q}: ${got} for exact ${exact}`,
      );
      if (bin !== 0) assert.ok(Math.abs(got - exact) <= 0.0443 * Math.abs(exact) + 1e-12, `q ${q}: ${got} vs ${exact}`);
    }),
    { numRuns: 500 },
  );
});

test('log histogram: restored from its snapshot (through JSON), it answers and continues bit for bit', () => {
  fc.assert(
    fc.property(values, values, (before, after) => {
      const a = new LogHistogram(50, FLOOR);
      for (const x of before) a.push(x);
      const b = new LogHistogram(50, FLOOR, JSON.parse(JSON.stringify(a.histogramState())));
      for (const x of after) {
        a.push(x);
        b.push(x);
      }
      for (const q of [0, 0.1, 0.5, 0.9, 0.99, 1]) assert.equal(b.quantile(q), a.quantile(q));
      assert.equal(b.mad(a.quantile(0.5)), a.mad(a.quantile(0.5)));
    }),
    { numRuns: 100 },
  );
});

test('log histogram: values spanning more octaves than it holds fold into its lowest bin, the upper quantiles stay right', () => {
  const h = new LogHistogram(Infinity, -40);
  for (let i = 0; i < 100; i++) h.push(1e-15);
  for (let i = 0; i < 900; i++) h.push(1_000 + i);
  assert.ok(Math.abs(h.quantile(0.5) / 1_450 - 1) < 0.05, `${h.quantile(0.5)}`);
  assert.ok(h.quantile(0.05) < 1_000);
});

/** The exact weighted q-quantile (the smallest value whose cumulative weight reaches q of the total). */
function weightedQuantile(pairs: Array<[number, number]>, q: number, unit = 0): number {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((t, [, w]) => t + w, 0);
  const target = q * (total - unit) + unit / 2;
  let cum = 0;
  for (const [x, w] of sorted) {
    cum += w;
    if (cum >= target * (1 - 1e-12)) return x;
  }
  return sorted.at(-1)![0];
}

/** Recent values on stationary streams of the laws the window rules see, against exact recomputations. */
const laws: Array<{ name: string; floor: number; draw: (r: () => number) => number }> = [
  {
    name: 'steps (gaussian, signed)',
    floor: -4,
    draw: (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()),
  },
  { name: 'excursions (in σ)', floor: -4, draw: (r) => 1.5 + Math.abs(Math.log(1 - r())) * 0.6 },
  {
    name: 'spreads (lognormal, raw units)',
    floor: -40,
    draw: (r) => 0.02 * Math.exp(0.3 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
  },
];

for (const law of laws) {
  test(`recent values, ${law.name}: extremes exact over the last stretch; quantiles and MAD within a bin of the exact faded ones`, () => {
    const r = prng(11);
    const capacity = 1_500;
    const recent = new RecentValues(capacity, law.floor);
    const growth = 2 ** (1 / ((capacity * Math.LN2) / 2));
    const all: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      const x = Math.fround(law.draw(r));
      recent.push(x);
      all.push(x);
      if (i % 211 !== 0) continue;
      // The extremes span the last `capacity` values and at most one stretch (an hour) more.
      const last = all.slice(-capacity);
      const longer = all.slice(-capacity - Math.ceil(capacity / 24));
      assert.ok(recent.quantile(1) >= Math.max(...last) && recent.quantile(1) <= Math.max(...longer));
      assert.ok(recent.quantile(0) <= Math.min(...last) && recent.quantile(0) >= Math.min(...longer));
      assert.equal(recent.length, Math.min(i + 1, capacity));
      // The body: every value seen, each weighing `growth` times the one before.
      const pairs = all.map((v, k): [number, number] => [v, growth ** (k - i)]);
      const unit = pairs.reduce((t, [, w]) => t + w, 0) / recent.length;
      for (const q of [0.1, 0.5, 0.9, 0.99]) {
        const exact = weightedQuantile(pairs, q, unit);
        const got = recent.quantile(q);
        assert.ok(
          Math.abs(got - exact) <= 0.045 * Math.abs(exact) + 2 ** (law.floor + 1),
          `q ${q} at ${i}: ${got} vs ${exact}`,
        );
      }
      const c = recent.median();
      const mad = weightedQuantile(
        pairs.map(([v, w]) => [Math.abs(v - c), w]),
        0.5,
      );
      const got = recent.mad(c);
      assert.ok(
        Math.abs(got - mad) <= 0.045 * (Math.abs(c) + mad) + 2 ** (law.floor + 1),
        `MAD at ${i}: ${got} vs ${mad}`,
      );
    }
  });
}

test('recent values: restored from a snapshot (through JSON) at any point, continue bit for bit', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), values, values, (capacity, before, after) => {
      const a = new RecentValues(capacity, -7);
      for (const x of before) a.push(x);
      const b = new RecentValues(capacity, -7, JSON.parse(JSON.stringify(a.snapshot())));
      for (const x of after) {
        a.push(x);
        b.push(x);
        for (const q of [0, 0.5, 0.9, 1]) assert.equal(b.quantile(q), a.quantile(q));
      }
      assert.deepEqual(b.snapshot(), a.snapshot());
    }),
    { numRuns: 200 },
  );
});

test('recent values: reaches(x) says what x <= the largest value held (either way: or <= −the smallest) says, at every point of a wrapping history', () => {
  fc.assert(
    fc.property(
      values,
      fc.integer({ min: 3, max: 60 }),
      fc.array(fc.double({ noNaN: false })),
      (xs, capacity, probes) => {
        const h = new RecentValues(capacity, -7);
        for (const x of xs) {
          h.push(x);
          const max = h.quantile(1);
          const min = h.quantile(0);
          // The values held, their negatives, their neighbours and arbitrary ones (NaN too).
          for (const p of [x, -x, max, -min, max - 1e-9, -min + 1e-9, Math.fround(x), Number.NaN, ...probes]) {
            assert.equal(h.reaches(p, false), p <= max, `reaches(${p}) of max ${max}`);
            assert.equal(h.reaches(p, true), p <= Math.max(max, -min), `reaches(${p}, either way) of ${min} … ${max}`);
          }
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('log histogram: a range with empty stretches holds only its runs of bins in use (two clusters 20 octaves apart: under 128 bytes, where the range is 1.3 kB)', () => {
  const slab = new Slab();
  const h = new LogHistogram(Infinity, -10, undefined, 0, slab);
  for (let i = 0; i < 50; i++) {
    h.push(1 + (i % 3) * 0.01);
    h.push(2 ** 20 * (1 + (i % 3) * 0.01));
  }
  assert.ok(slab.byteLength <= 128, `${slab.byteLength} bytes`);
  // The state is the dense range, as snapshots always held it.
  const state = h.histogramState();
  assert.ok(Buffer.from(state.bins, 'base64').length >= 4 * 20 * 16);
  assert.ok(Math.abs(h.quantile(0.25) / 1.01 - 1) < 0.05 && Math.abs(h.quantile(0.75) / 2 ** 20 / 1.01 - 1) < 0.05);
});

test("recent values: one region a history, its float64s the histogram's three and the two cached reads (the median and the MAD about it)", () => {
  const slab = new Slab();
  const h = new RecentValues(1_500, -4, undefined, slab);
  assert.equal(slab.byteLength, 5 * 8);
  for (let i = 0; i < 10; i++) h.push(1);
  // One stretch's extremes (two float32s), and one run of one bin (its header and its weight).
  assert.equal(slab.byteLength, 5 * 8 + 2 * 4 + 2 * 4);
  assert.equal(h.median(), h.quantile(0.5));
});

test('log histogram: a snapshot wider than a histogram holds (none this code writes: a damaged checkpoint) is folded as the live range is, not misread', () => {
  const a = new LogHistogram(Infinity, FLOOR);
  for (let i = 0; i < 1_000; i++) a.push(1_000 + (i % 900));
  const s = a.histogramState();
  const bins = decodeFloats(s.bins);
  // 700 bins more below it, the lowest holding a millionth of the weight.
  const wide = new Float32Array(bins.length + 700);
  wide.set(bins, 700);
  wide[0] = s.total * 1e-6;
  const b = new LogHistogram(Infinity, FLOOR, {
    lo: s.lo - 700,
    bins: encodeFloats(wide),
    total: s.total + wide[0]!,
    weight: s.weight,
  });
  for (const q of [0.1, 0.5, 0.9, 0.99]) {
    const [x, y] = [a.quantile(q), b.quantile(q)];
    assert.ok(Math.abs(y / x - 1) < 0.01, `quantile ${q}: ${y} against ${x}`);
  }
  const m = a.quantile(0.5);
  assert.ok(Math.abs(b.mad(m) / a.mad(m) - 1) < 0.01, `MAD ${b.mad(m)} against ${a.mad(m)}`);
});
