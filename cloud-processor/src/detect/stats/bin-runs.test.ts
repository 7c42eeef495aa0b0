import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeRuns, encodeRuns, findBin, runsLength, scaleRuns } from './bin-runs.js';

/** Ranges of bins as histograms have them: stretches of empty bins between those in use. */
const ranges = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.double({ min: 1e-30, max: 1e30, noNaN: true })), {
  maxLength: 640,
});

test('bin runs: the runs give back the dense range, find each bin, and hold no two empty bins in a row', () => {
  fc.assert(
    fc.property(ranges, fc.integer({ min: 0, max: 5 }), (xs, at) => {
      const dense = Float64Array.from(xs);
      const stored = runsLength(dense, dense.length);
      const data = new Float64Array(at + stored + 3).fill(7);
      encodeRuns(dense, dense.length, data, at);
      // Nothing written beyond its floats.
      assert.deepEqual([...data.subarray(at + stored)], [7, 7, 7]);
      const back = new Float64Array(dense.length);
      decodeRuns(data, at, stored, back);
      assert.deepEqual(back, dense);
      for (let i = 0; i < dense.length; i++) {
        const p = findBin(data, at, stored, i);
        if (dense[i] !== 0) assert.equal(data[p], dense[i]);
        else assert.ok(p < 0 || data[p] === 0);
      }
      // At most one float a bin in use and one a run besides (a lone empty bin inside a run costs its header).
      const used = xs.filter((x) => x !== 0).length;
      assert.ok(stored <= 2 * used, `${stored} floats for ${used} bins`);
      scaleRuns(data, at, stored, 0.5);
      const halved = new Float64Array(dense.length);
      decodeRuns(data, at, stored, halved);
      assert.deepEqual(
        halved,
        dense.map((x) => x * 0.5),
      );
    }),
    { numRuns: 300 },
  );
});

test('bin runs: float32 weights, as the log histogram keeps them', () => {
  const dense = new Float32Array(640);
  dense[0] = 1;
  dense[2] = 2;
  dense[639] = 3;
  const stored = runsLength(dense, 640);
  assert.equal(stored, 1 + 3 + 1 + 1);
  const data = new Float32Array(stored);
  encodeRuns(dense, 640, data, 0);
  assert.equal(data[findBin(data, 0, stored, 639)], 3);
  assert.equal(findBin(data, 0, stored, 300), -1);
});
