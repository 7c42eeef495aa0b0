import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from '../synthetic.js';
import { DelayedCalibrator } from './delayed-calibrator.js';
import { Slab } from './slab.js';

/** Readings a second to five minutes apart: the ring of waiting readings fills, wraps and empties. */
function readings(n: number, seed: number): [number, number, number][] {
  const rand = prng(seed);
  const out: [number, number, number][] = [];
  let ts = 0;
  for (let i = 0; i < n; i++) {
    const dt = rand() < 0.1 ? 0 : Math.round(1_000 + rand() * 299_000);
    ts += dt;
    out.push([ts, rand() * 10, dt]);
  }
  return out;
}

const make = (state?: ConstructorParameters<typeof DelayedCalibrator>[4], slab?: Slab) =>
  new DelayedCalibrator(3_600_000, 6, 60_000, 180_000, state, slab);

test('a calibrator restored from a snapshot at any point learns and judges exactly as the one that ran on', () => {
  const all = readings(400, 3);
  const whole = make();
  const judged: number[] = [];
  for (const [ts, d, dt] of all) {
    judged.push(whole.surprise(d));
    whole.queue(ts, d, dt);
  }
  for (const cut of [1, 7, 50, 133, 290]) {
    let c = make();
    all.forEach(([ts, d, dt], i) => {
      // Restored (through JSON, as a checkpoint is) into a slab that holds another region before it.
      if (i === cut) {
        const slab = new Slab();
        slab.alloc(24);
        c = make(JSON.parse(JSON.stringify(c.snapshot())), slab);
      }
      assert.equal(c.surprise(d), judged[i], `reading ${i} after a restore at ${cut}`);
      c.queue(ts, d, dt);
    });
    assert.deepEqual(c.snapshot(), whole.snapshot());
  }
});

test('at most 64 readings wait, the oldest learnt first; forget drops them all', () => {
  const c = make();
  for (let i = 1; i <= 100; i++) c.queue(i, i, 1);
  const pending = c.snapshot().pending;
  assert.equal(pending.length, 64);
  assert.deepEqual(
    pending.map(([ts]) => ts),
    Array.from({ length: 64 }, (_, i) => 37 + i),
  );
  assert.equal(Math.round(c.observations * 60_000), 36);
  c.forget();
  assert.deepEqual(c.snapshot().pending, []);
});
