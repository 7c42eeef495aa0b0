import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JudgedWindows } from './judged-windows.js';

const at = (end: number) => ({ device: 'd', metric: 'm', start: end - 60_000, end });
const input = (ts: number) => ({
  device: 'd',
  metric: 'm',
  ts,
  lengthMs: 60_000,
  value: ts,
  min: ts,
  max: ts,
  stddev: 0,
  count: 1,
  first: ts,
  last: ts,
  outOfRange: 0,
});

test('judged windows are bounded: the latest half to all of maxWindows are remembered, never more', () => {
  const j = new JudgedWindows(100);
  for (let ts = 1; ts <= 1_000; ts++) {
    j.remember('gw', input(ts));
    assert.ok(j.size <= 100, `size ${j.size} at ${ts}`);
    for (let back = 0; back < 50 && back < ts; back++)
      assert.equal(j.judged('gw', at(ts - back))?.value, ts - back, `window ${ts - back} at ${ts}`);
  }
  assert.equal(j.judged('gw', at(800)), undefined, 'an old one is forgotten');
  assert.equal(j.judged('other', at(1_000)), undefined, 'keyed by agent too');
  assert.deepEqual(j.judged('gw', at(1_000)), input(1_000), 'given back as judged');
  const none = new JudgedWindows(0);
  none.remember('gw', input(1));
  assert.equal(none.size, 0);
});
