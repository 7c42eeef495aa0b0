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

test('judged windows of many series, interleaved and remembered twice: each found by its series and end, the newest judgement first', () => {
  const j = new JudgedWindows(1_000);
  const of = (device: string, metric: string, ts: number, value: number) => ({ ...input(ts), device, metric, value });
  // Names are data: an id like a Map's or an Object's own key is a series like any other.
  const devices = ['d1', 'd2', '__proto__', 'constructor'];
  for (let ts = 1; ts <= 100; ts++) for (const d of devices) j.remember('gw', of(d, 'm', ts, ts * 10 + d.length));
  j.remember('gw', of('d1', 'm', 50, -1)); // remembered again: its newer judgement wins
  for (const d of devices)
    for (const ts of [100, 99, 60, 51])
      assert.equal(j.judged('gw', { device: d, metric: 'm', start: ts - 60_000, end: ts })?.value, ts * 10 + d.length);
  assert.equal(j.judged('gw', { device: 'd1', metric: 'm', start: 0, end: 50 })?.value, -1);
  assert.equal(j.judged('gw', { device: 'd1', metric: 'other', start: 0, end: 50 }), undefined, 'keyed by metric');
  assert.equal(j.judged('gw', { device: 'd1', metric: 'm', start: 0, end: 100.5 }), undefined, 'and by end');
  assert.equal(j.judged('gw', { device: 'd3', metric: 'm', start: 0, end: 50 }), undefined);
});

test('one series holding a whole generation: its recent windows are found, a lookup walks at most MAX_WALK of them', () => {
  const j = new JudgedWindows(20_000);
  for (let ts = 1; ts <= 10_000; ts++) j.remember('gw', input(ts));
  assert.equal(j.judged('gw', at(10_000))?.value, 10_000);
  assert.equal(j.judged('gw', at(10_000 - 4_095))?.value, 10_000 - 4_095, 'the 4,096th newest');
  assert.equal(j.judged('gw', at(10_000 - 4_096)), undefined, 'beyond the walk: as if forgotten');
  assert.equal(j.judged('gw', at(123_456)), undefined, 'never remembered');
});
