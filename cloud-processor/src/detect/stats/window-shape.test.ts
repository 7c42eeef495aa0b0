import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesPoint } from '../detector.js';
import { gaussian, prng } from '../synthetic.js';
import { chanceOfIdenticalWindow, QuantumEstimate, twoValuedSpread } from './window-shape.js';

/** The aggregate of some readings, as the agent's window gives it (sample standard deviation). */
function windowOf(readings: number[]): SeriesPoint {
  const n = readings.length;
  const mean = readings.reduce((s, x) => s + x, 0) / n;
  const m2 = readings.reduce((s, x) => s + (x - mean) ** 2, 0);
  return {
    ts: 0,
    value: mean,
    min: Math.min(...readings),
    max: Math.max(...readings),
    stddev: Math.sqrt(m2 / (n - 1)),
    count: n,
  };
}

test('a window of two values is told from its aggregate, and its spread given; three values or continuous readings are not', () => {
  assert.equal(twoValuedSpread(windowOf([20.0625, 20.0625, 20.0625, 20.0625, 20.125])), 0.0625);
  assert.equal(twoValuedSpread(windowOf([20.1, 20.2, 20.2, 20.1, 20.2, 20.2])), windowOf([20.1, 20.2]).max - 20.1);
  assert.equal(
    twoValuedSpread(windowOf([20.1, 20.2, 20.3, 20.1, 20.3])),
    undefined,
    'three values with the mean of a 2-3 split',
  );
  assert.equal(twoValuedSpread(windowOf([20, 20, 20, 20])), undefined, 'one value');
  const g = gaussian(prng(5));
  for (let i = 0; i < 1000; i++)
    assert.equal(twoValuedSpread(windowOf(Array.from({ length: 5 }, () => 20 + 0.1 * g()))), undefined);
});

test('the chance of a window of identical readings matches simulation, at a level in the middle of a step', () => {
  const g = gaussian(prng(9));
  for (const [count, s] of [
    [5, 0.32],
    [5, 0.8],
    [10, 0.5],
    [5, 1.5],
  ] as const) {
    let identical = 0;
    const trials = 200_000;
    for (let t = 0; t < trials; t++) {
      const first = Math.round(s * g());
      let same = true;
      for (let r = 1; r < count && same; r++) same = Math.round(s * g()) === first;
      if (same) identical++;
    }
    const seen = identical / trials;
    const law = chanceOfIdenticalWindow(count, s, 1);
    assert.ok(
      Math.abs(seen - law) < 4 * Math.sqrt(law / trials) + 1e-5,
      `${count} readings, σ ${s} steps: ${seen} seen, ${law} by the law`,
    );
  }
  // Continuous readings: the integral form, tiny.
  assert.ok(chanceOfIdenticalWindow(5, 8, 1) < 1e-5 && chanceOfIdenticalWindow(5, 8, 1) > 1e-6);
  assert.equal(chanceOfIdenticalWindow(5, 0.1, 0), 0, 'no step known');
});

test('a quantisation step is learnt from windows of two values one step apart, not from a fluke', () => {
  const q = new QuantumEstimate();
  q.see(windowOf([21.97, 22.04, 22.04, 22.04, 22.04])); // four alike by chance, on a 0.01 sensor
  assert.equal(q.step, 0, 'one window of two values is no step');
  const coarse = new QuantumEstimate();
  coarse.see(windowOf([20.125, 20.125, 20.25, 20.125, 20.125]));
  coarse.see(windowOf([20.25, 20.375, 20.375, 20.25, 20.25]));
  assert.equal(coarse.step, 0.125);
  coarse.see(windowOf([20.25, 20.25, 20.5, 20.25, 20.25])); // two steps apart: still 0.125
  assert.equal(coarse.step, 0.125);
  assert.equal(new QuantumEstimate(coarse.snapshot()).step, 0.125, 'restored from its snapshot');
});
