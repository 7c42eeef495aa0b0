import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeRuns, encodeRuns, findBin, runsEnd, runsLength, runStart, scaleRuns } from './bin-runs.js';

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

test('bin runs: laid out over the bins from the first run to the last (runStart, runsEnd), they come out as over the whole range', () => {
  fc.assert(
    fc.property(ranges, fc.integer({ min: 0, max: 100 }), (xs, pad) => {
      // The range with `pad` empty bins after it, as a calibrator's 801 bins are mostly empty.
      const dense = new Float64Array(xs.length + pad);
      dense.set(xs);
      const stored = runsLength(dense, dense.length);
      const whole = new Float64Array(stored);
      encodeRuns(dense, dense.length, whole, 0);
      const from = stored > 0 ? runStart(whole[0]!) : 0;
      const to = runsEnd(whole, 0, stored);
      for (let i = to; i < dense.length; i++) assert.equal(dense[i], 0, 'no bin in use at or past runsEnd');
      for (let i = 0; i < from; i++) assert.equal(dense[i], 0, 'no bin in use below the first run');
      assert.equal(runsLength(dense, to, from), stored);
      const part = new Float64Array(stored);
      encodeRuns(dense, to, part, 0, from);
      assert.deepEqual(part, whole);
    }),
  );
});
