/**
 * Horizons are durations: the same sensor summarised in 60-second or 5-minute windows (the agent's
 * default, and the length the defaults were first set for) is judged over the same spans of time,
 * not over the same counts of windows (which made "two days" of warm-up ten hours at 60 s).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { windowsIn, type SeriesPoint } from './detector.js';
import { createDetector } from './registry.js';
import { rawSeries, sensorWindows } from './synthetic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test("a duration in windows follows the window length, within the statistic's minimum and the state's bound", () => {
  assert.equal(windowsIn(2 * DAY, 300_000, 24), 576);
  assert.equal(windowsIn(2 * DAY, 60_000, 24), 2_880);
  assert.equal(windowsIn(2 * DAY, 0, 24), 576, 'unknown length: 5-minute windows');
  assert.equal(windowsIn(HOUR, 3 * HOUR, 4), 4);
  assert.equal(windowsIn(25 * HOUR, 10_000, 8, 1_500), 1_500);
});

/** A room thermometer in windows of `windowMs` (60 readings each), creeping away from `from` on, 3 °C an hour. */
function creeping(windowMs: number, from: number): SeriesPoint[] {
  return sensorWindows({
    seed: 3,
    windows: Math.round((4 * DAY) / windowMs),
    windowMs,
    readingsPerWindow: 60,
    dailyAmplitude: 3,
    noise: 0.08,
    weather: { std: 0.3, tauMs: 6 * HOUR },
    fault: (w, _r, x) => (w * windowMs >= from ? x + (3 * (w * windowMs - from)) / HOUR : x),
  });
}

/**
 * When (ms after the first window) two members first judge: the drift member's first alarm, and
 * the first window after which the window rules would call ten missing windows a dropout (they
 * judge nothing before their warm-up is over).
 */
function firstVerdicts(windowMs: number, from: number): { rules: number; drift: number } {
  const points = creeping(windowMs, from);
  const drift = createDetector('drift', {}, undefined, { windowMs });
  const rules = createDetector('window-rules', {}, undefined, { windowMs });
  const t0 = points[0]!.ts;
  let first = { rules: Infinity, drift: Infinity };
  for (const p of points) {
    if (drift.update(p).score >= 0.5) first = { ...first, drift: Math.min(first.drift, p.ts - t0) };
    rules.update(p);
    if (rules.tick!(p.ts + 10 * windowMs).score >= 0.5) first = { ...first, rules: Math.min(first.rules, p.ts - t0) };
  }
  return first;
}

test('60-second and 5-minute windows: the window rules wait an hour and the drift member two days, in time', () => {
  for (const windowMs of [300_000, 60_000]) {
    // A creep from a day and a half on: inside the two days of warm-up (counted as 576 windows, that was 9.6 hours of 60-second ones).
    const early = firstVerdicts(windowMs, 1.5 * DAY);
    assert.ok(
      early.drift >= 2 * DAY,
      `${windowMs / 1000}-s windows: a drift reported at ${(early.drift / HOUR).toFixed(1)} h, inside the warm-up`,
    );
    // An hour of windows seen: from the end of the hour's last window (its timestamp is the first window's plus 55 or 59 minutes).
    assert.ok(
      early.rules === HOUR - windowMs,
      `${windowMs / 1000}-s windows: window rules judge from ${(early.rules / HOUR).toFixed(3)} h`,
    );
  }
  // A creep after the warm-up is found, whatever the window length (the sums add per window, so
  // sooner in shorter ones).
  const [five, one] = [300_000, 60_000].map((w) => firstVerdicts(w, 2.5 * DAY).drift - 2.5 * DAY);
  assert.ok(
    five! < 4 * HOUR && one! < 4 * HOUR,
    `drift found ${(five! / HOUR).toFixed(1)} h and ${(one! / HOUR).toFixed(1)} h after it began`,
  );
});

test('the level member remembers 4 hours of windows, at least the 48 values a median and MAD need', () => {
  for (const [windowMs, expected] of [
    [60_000, 240],
    [300_000, 48],
    [3_600_000, 48],
  ] as const) {
    const d = createDetector('robust-zscore', {}, undefined, { windowMs });
    for (const p of sensorWindows({ seed: 1, windows: 400, windowMs })) d.update(p);
    const state = d.snapshot() as { history: { value: number[] } };
    assert.equal(state.history.value.length, expected, `${windowMs / 1000}-s windows`);
  }
});

/** The first window (ms after the first) at which a detector's verdict carries any surprise: its calibration's warm-up is over. */
function firstSurprise(name: 'ewma' | 'rate-of-change', windowMs: number, settings: object = {}): number {
  const d = createDetector(name, settings, undefined, { windowMs });
  const points = sensorWindows({ seed: 5, windows: Math.round((6 * HOUR) / windowMs), windowMs, noise: 0.3 });
  const t0 = points[0]!.ts;
  for (const p of points) if ((d.update(p).surprise ?? 0) > 0) return p.ts - t0;
  return Infinity;
}

test('a calibration warms up over a duration (and at least 24 deviations), whatever the window length', () => {
  const settings = { calibration: { warmupMs: 2 * HOUR, rampMs: 0 } };
  for (const name of ['ewma', 'rate-of-change'] as const) {
    // Two hours of 60-second windows are 120 of them (it was 24 windows: 24 minutes); of 5-minute ones, 24.
    const one = firstSurprise(name, 60_000, settings);
    const five = firstSurprise(name, 300_000, settings);
    assert.ok(
      one >= 2 * HOUR - 5 * 60_000 && one <= 2.5 * HOUR,
      `${name}, 60-s windows: first surprise at ${(one / HOUR).toFixed(2)} h`,
    );
    assert.ok(
      five >= 2 * HOUR - 10 * 60_000 && five <= 2.5 * HOUR,
      `${name}, 5-minute windows: first surprise at ${(five / HOUR).toFixed(2)} h`,
    );
  }
});

test("raw rows: the ensemble converts its members' horizons with the rows' own cadence, so a replay (window length 0) judges as the benchmark (none) does", () => {
  for (const spacingMs of [300_000, 1_800_000]) {
    const rows = rawSeries(11, 2_000, { spacingMs, dailyAmplitude: 5 });
    rows[1_500] = {
      ...rows[1_500]!,
      value: rows[1_500]!.value + 12,
      min: rows[1_500]!.value + 12,
      max: rows[1_500]!.value + 12,
    };
    const bench = createDetector('ensemble');
    const live = createDetector('ensemble', {}, undefined, { windowMs: 0 });
    const a = rows.map((p) => bench.update(p));
    const b = rows.map((p) => live.update(p));
    assert.deepEqual(b, a, `rows every ${spacingMs / 60_000} min`);
    assert.ok(a[1_500]!.score >= 0.5, 'the spike is found');
  }
});
