import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WindowResult } from '@tributary/firmware-schemas';
import { WindowEngine, type WindowEngineOptions } from './window-engine.js';

const options: WindowEngineOptions = {
  lengthMs: 60_000,
  slideMs: 60_000,
  allowedLatenessMs: 1_000,
  idleAfterMs: 65_000,
  maxSeries: 100,
  onSeriesLimit: 'reject-new',
  lateReadings: 'drop',
  lateHorizonMs: 0,
  maxPanesPerSeries: 8,
  sketchK: 16,
};
const T = 1_700_000_040_000 - (1_700_000_040_000 % 60_000);

function engine(out: WindowResult[]): WindowEngine {
  return new WindowEngine(options, {
    window: (w) => out.push(w),
    evicted: () => undefined,
    outOfRangeOnly: () => undefined,
  });
}

test('a window open at a clean stop is sent again whole after the restart, not overwritten by its second half', () => {
  const first: WindowResult[] = [];
  const a = engine(first);
  for (let i = 0; i < 30; i++) a.add('d', 'x', T + i * 1000, i, T + i * 1000);
  a.flush();
  assert.deepEqual(
    first.map((w) => w.count),
    [30],
    'the stop flushes the open window with its first 30 readings',
  );

  const second: WindowResult[] = [];
  const b = engine(second);
  assert.equal(b.restore(first), 1);
  for (let i = 30; i < 60; i++) b.add('d', 'x', T + i * 1000, i, T + i * 1000);
  b.add('d', 'x', T + 62_000, 0, T + 62_000); // the next window starts; the watermark closes the restored one
  const sent = second.find((w) => w.end === T + 60_000)!;
  assert.equal(sent.count, 60, 'the point InfluxDB keeps holds all 60 readings');
  assert.equal(sent.sum, (59 * 60) / 2);
  assert.equal(sent.min, 0);
  assert.equal(sent.max, 59);
  assert.equal(sent.first, 0);
  assert.equal(sent.last, 59);
  assert.equal(sent.quantiles, undefined, 'no quantiles: the sketch cannot be rebuilt from the first half');
});

test('sliding windows are not restored (a pane cannot be rebuilt from overlapping windows)', () => {
  const sliding = new WindowEngine(
    { ...options, slideMs: 30_000 },
    { window: () => undefined, evicted: () => undefined, outOfRangeOnly: () => undefined },
  );
  assert.equal(
    sliding.restore([
      {
        device: 'd',
        metric: 'x',
        start: T,
        end: T + 60_000,
        count: 1,
        sum: 1,
        min: 1,
        max: 1,
        mean: 1,
        m2: 0,
        first: 1,
        last: 1,
        firstTs: T,
        lastTs: T,
        rev: 0,
      },
    ]),
    0,
  );
});

test('a window holding only out-of-range readings at a clean stop is taken back: a reading after the restart joins its count', () => {
  const first: WindowResult[] = [];
  const a = engine(first);
  a.noteOutOfRange('d', 'x', T + 1_000);
  a.noteOutOfRange('d', 'x', T + 2_000);
  a.flush();
  assert.deepEqual(first, [{ device: 'd', metric: 'x', start: T, end: T + 60_000, count: 0, rev: 0, outOfRange: 2 }]);

  const second: WindowResult[] = [];
  const b = engine(second);
  assert.equal(b.restore(first), 1);
  b.add('d', 'x', T + 30_000, 7, T + 30_000);
  b.add('d', 'x', T + 62_000, 0, T + 62_000); // the next window starts; the watermark closes the restored one
  const sent = second.find((w) => w.end === T + 60_000);
  assert.ok(sent && sent.count === 1, JSON.stringify(second));
  assert.equal(sent.outOfRange, 2, 'the readings removed before the stop still count');
  assert.equal(sent.mean, 7);
  assert.deepEqual(sent.quantiles, { p50: 7, p90: 7, p99: 7 }, 'its sketch is whole: no reading came before the stop');
});
