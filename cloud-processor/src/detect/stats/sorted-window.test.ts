import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Slab } from './slab.js';
import { SortedWindow } from './sorted-window.js';

function brute(xs: number[]): { median: number; mad: number; q: (p: number) => number } {
  const s = [...xs].sort((a, b) => a - b);
  const med = (a: number[]) => (a.length % 2 ? a[a.length >> 1]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2);
  const median = med(s);
  const mad = med(s.map((x) => Math.abs(x - median)).sort((a, b) => a - b));
  const q = (p: number) => {
    const pos = p * (s.length - 1);
    const i = Math.floor(pos);
    return i + 1 < s.length ? s[i]! + (pos - i) * (s[i + 1]! - s[i]!) : s[i]!;
  };
  return { median, mad, q };
}

test('median, MAD and quantiles equal a brute-force recomputation after every push', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 200 }),
      (cap, xs) => {
        const w = new SortedWindow(cap);
        xs.forEach((x, i) => {
          w.push(x);
          const held = xs.slice(Math.max(0, i + 1 - cap), i + 1);
          const b = brute(held);
          assert.equal(w.length, held.length);
          assert.equal(w.median(), b.median);
          assert.equal(w.mad(w.median()), b.mad);
          assert.ok(Math.abs(w.quantile(0.9) - b.q(0.9)) < 1e-9);
          assert.deepEqual(w.toArray(), held);
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('a window rebuilt from toArray() behaves as the original', () => {
  const w = new SortedWindow(5);
  for (const x of [3, 1, 4, 1, 5, 9, 2, 6]) w.push(x);
  const v = new SortedWindow(5, w.toArray());
  for (const x of [5, 3, 5]) {
    w.push(x);
    v.push(x);
  }
  assert.deepEqual(v.toArray(), w.toArray());
  assert.equal(v.median(), w.median());
});

test('a window of mostly equal values (intervals with a gap now and then) reads as a brute-force recomputation, and holds one value while they are all alike', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.constantFrom(60_000, 60_000, 60_000, 60_000, 120_000, 0, -0), { minLength: 1, maxLength: 200 }),
      fc.constantFrom(32 as const, 64 as const),
      (cap, xs, precision) => {
        const slab = new Slab();
        const w = new SortedWindow(cap, undefined, precision, slab);
        xs.forEach((x, i) => {
          w.push(x);
          const held = xs.slice(Math.max(0, i + 1 - cap), i + 1);
          const b = brute(held);
          // === : which of equal ±0 sorts first is the insertion's business, as it always was.
          assert.ok(w.median() === b.median, `median ${w.median()} ${b.median}`);
          assert.ok(w.mad(w.median()) === b.mad, `mad ${w.mad(w.median())} ${b.mad}`);
          assert.ok(w.quantile(0.9) === b.q(0.9), `q90 ${w.quantile(0.9)} ${b.q(0.9)}`);
          assert.deepEqual(w.toArray(), held);
          if (held.every((h) => Object.is(h, held[0])) && held[0] !== 0)
            assert.equal(slab.byteLength, 8, `${held.length} equal values held in one`);
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('a NaN between equal values is held, not folded away with them', () => {
  const w = new SortedWindow(3, undefined, 64, new Slab());
  for (const x of [5, Number.NaN, 5]) w.push(x);
  assert.deepEqual(w.toArray(), [5, Number.NaN, 5]);
});
