import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawPoint, type SeriesPoint } from '../detector.js';
import { RawWindows } from './raw-windows.js';
import { gaussian, prng } from '../synthetic.js';

const T0 = Date.UTC(2026, 0, 1);

test('fast raw rows become the windows the agent would send: aligned, with count, mean, spread, min, max, first and last', () => {
  const g = gaussian(prng(5));
  const rows = Array.from({ length: 600 }, (_, i) => rawPoint(T0 + i * 1000 + 300, 20 + g()));
  const raw = new RawWindows(60_000);
  const [first, ...windows] = rows.flatMap((r) => [...raw.push(r)]);
  // The first row passes through: how fast the series is is not known yet.
  assert.deepEqual(first, rows[0]);
  assert.equal(windows.length, 9, 'ten minutes of rows close nine windows (the tenth waits for a row after it)');
  windows.forEach((w, k) => {
    const inside = rows
      .slice(1)
      .filter((r) => r.ts >= T0 + k * 60_000 && r.ts < T0 + (k + 1) * 60_000)
      .map((r) => r.value);
    const mean = inside.reduce((a, b) => a + b, 0) / inside.length;
    const sd = Math.sqrt(inside.reduce((a, b) => a + (b - mean) ** 2, 0) / (inside.length - 1));
    assert.equal(w.ts, T0 + (k + 1) * 60_000);
    assert.equal(w.count, k === 0 ? 59 : 60);
    assert.ok(Math.abs(w.value - mean) < 1e-9 && Math.abs(w.stddev - sd) < 1e-9, `window ${k}`);
    assert.deepEqual(
      [w.min, w.max, w.first, w.last],
      [Math.min(...inside), Math.max(...inside), inside[0], inside.at(-1)],
    );
  });
});

test('rows no faster than every half window, and points that already are windows, pass through', () => {
  const slow = new RawWindows(60_000);
  const rows = Array.from({ length: 20 }, (_, i) => rawPoint(T0 + i * 300_000, i));
  assert.deepEqual(
    rows.flatMap((r) => [...slow.push(r)]),
    rows,
  );
  const window: SeriesPoint = { ts: T0, value: 1, min: 0, max: 2, stddev: 1, count: 3 };
  assert.deepEqual([...new RawWindows(60_000).push(window)], [window]);
});

test('a window open at a checkpoint closes after restore as it would have', () => {
  const rows = Array.from({ length: 200 }, (_, i) => rawPoint(T0 + i * 1000, Math.sin(i / 7)));
  const straight = new RawWindows(60_000);
  const a = rows.flatMap((r) => [...straight.push(r)]);
  const first = new RawWindows(60_000);
  const b = rows.slice(0, 90).flatMap((r) => [...first.push(r)]);
  const resumed = new RawWindows(60_000, JSON.parse(JSON.stringify(first.snapshot())));
  b.push(...rows.slice(90).flatMap((r) => [...resumed.push(r)]));
  assert.deepEqual(b, a);
});
