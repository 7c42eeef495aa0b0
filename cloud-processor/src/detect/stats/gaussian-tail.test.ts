import assert from 'node:assert/strict';
import { test } from 'node:test';
import { excursionQuantile, normalTail, normalTailInverse } from './gaussian-tail.js';

test('gaussian tail: P(Z > x) matches the tables, and its inverse returns x', () => {
  // Abramowitz & Stegun 26.2: Q(0) = 0.5, Q(1.96) = 0.0249979, Q(3) = 1.349898e-3, Q(5) = 2.866516e-7, Q(6) = 9.865876e-10.
  for (const [x, q] of [
    [0, 0.5],
    [1.96, 0.0249979],
    [3, 1.349898e-3],
    [5, 2.866516e-7],
    [6, 9.865876e-10],
  ] as const) {
    assert.ok(Math.abs(normalTail(x) / q - 1) < 2e-6, `Q(${x}) = ${normalTail(x)}, expected ${q}`);
    if (x > 0) assert.ok(Math.abs(normalTailInverse(q) - x) < 1e-5, `inverse of ${q}: ${normalTailInverse(q)}`);
  }
  assert.ok(Math.abs(normalTail(-1.96) - 0.9750021) < 1e-6);
});

test('gaussian tail: the excursion of n readings passed with probability p', () => {
  // One reading: the plain tail. Sixty: P(max > x) = 1 − (1 − Q(x))⁶⁰.
  assert.ok(Math.abs(excursionQuantile(1, 0.01) - normalTailInverse(0.01)) < 1e-9);
  for (const p of [0.1, 0.01, 1e-6]) {
    const x = excursionQuantile(60, p);
    assert.ok(Math.abs(1 - (1 - normalTail(x)) ** 60 - p) / p < 1e-4, `n 60, p ${p}: x ${x}`);
  }
  assert.ok(excursionQuantile(60, 1e-6) > excursionQuantile(5, 1e-6), 'more readings stray further');
});
