import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeProfile } from './change-profile.js';
import { Slab } from './slab.js';

test('a profile holds the bins written from the first one round the cycle, reads 0 elsewhere, and restores as short as it was', () => {
  const slab = new Slab();
  const p = new ChangeProfile(96, slab);
  assert.equal(slab.byteLength, 0, 'nothing before the first bin is written');
  // A series that starts at bin 90 and runs round midnight to bin 5.
  const written: number[] = [];
  for (let k = 0; k < 12; k++) {
    const b = (90 + k) % 96;
    p.set(b, 0.25 * k - 1, 0.5 + k, k + 1);
    written.push(b);
  }
  for (let b = 0; b < 96; b++) {
    const k = written.indexOf(b);
    assert.equal(p.expected(b), k < 0 ? 0 : 0.25 * k - 1);
    assert.equal(p.peak(b), k < 0 ? 0 : Math.fround(0.5 + k));
    assert.equal(p.seen(b), k < 0 ? 0 : k + 1);
  }
  assert.ok(slab.byteLength <= 16 * 18, `12 bins held in ${slab.byteLength} bytes, not 96 bins' 1,536`);
  const saved = p.snapshot();
  assert.equal(saved.expected.length, 96);
  const again = new Slab();
  const q = new ChangeProfile(96, again);
  q.restore(saved.expected, saved.peak, saved.seen, 5);
  assert.deepEqual(q.snapshot(), saved);
  assert.ok(again.byteLength <= slab.byteLength, 'restored no longer than it was');
  // And it goes on from there as the original does.
  p.set(6, 2, 3, 1);
  q.set(6, 2, 3, 1);
  assert.deepEqual(q.snapshot(), p.snapshot());
});

test('a profile grows to the bin the cycle has reached: 11 bins written, 11 records of 16 bytes', () => {
  const slab = new Slab();
  const p = new ChangeProfile(96, slab);
  for (let b = 40; b <= 50; b++) p.set(b, b, b, 1);
  assert.equal(slab.byteLength, 11 * 16);
});
