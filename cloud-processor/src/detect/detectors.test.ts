/**
 * Each detector on synthetic series it must catch and must not flag. Table-driven: a case names
 * a detector (with config), a series, and either the window in which a score of 0.5 or more must
 * appear, or "quiet" (no score of 0.5 after the warm-up).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scoreFromSurprise, type SeriesPoint } from './detector.js';
import { EnsembleConfig, reportedSurprise } from './detectors/ensemble.js';
import { createDetector, type DetectorName } from './registry.js';
import { rawSeries, sensorWindows } from './synthetic.js';

const N = 2400;
const AT = 2000;
/** Scores before this point are not judged (every detector is still learning). */
const WARM = 700;
/** Judged windows per false alarm the ensemble may raise before a fault (see the assertion). */
const ENSEMBLE_FALSE_ALARM_SPACING = 1_000;

interface Case {
  name: string;
  detector: DetectorName;
  config?: unknown;
  series: () => SeriesPoint[];
  /** 'quiet', or the number of points after `at` (default AT) within which the anomaly must be flagged. */
  expect: 'quiet' | { within: number; at?: number };
}

const windows =
  (seed: number, fault?: (w: number, r: number, x: number) => number, extra: object = {}) =>
  () =>
    sensorWindows({ seed, windows: N, dailyAmplitude: 5, ...(fault ? { fault } : {}), ...extra });
const after = (w: number) => w >= AT;

const clean: Case['series'][] = [
  () => rawSeries(11, N),
  () => rawSeries(12, N, { dailyAmplitude: 10 }),
  windows(13),
  windows(14, undefined, { dailyAmplitude: 0 }),
];
const calibrated: DetectorName[] = [
  'ensemble',
  'robust-zscore',
  'ewma',
  'seasonal',
  'rate-of-change',
  'novelty',
  'flatline',
  'volatility',
];

const cases: Case[] = [
  // Nothing to see: white noise, a clean daily cycle (raw rows and window aggregates), flat noise.
  ...calibrated.flatMap((detector) =>
    clean.map(
      (series, k): Case => ({
        name: `${detector} stays quiet on clean series ${k}`,
        detector,
        series,
        expect: 'quiet',
      }),
    ),
  ),
  {
    name: 'flatline: a series that never varies is constant, not stuck',
    detector: 'flatline',
    series: () => rawSeries(15, N, { noise: 0 }),
    expect: 'quiet',
  },
  // A DS18B20 (0.0625 °C steps) and a sensor with steps of its noise, 5 readings a window: windows
  // of one or two values and runs of identical windows are their normal life.
  ...(
    [
      [0.02, 0.0625],
      [0.1, 0.1],
    ] as const
  ).map(
    ([noise, step]): Case => ({
      name: `ensemble stays quiet on a quantised thermometer, σ ${noise}, step ${step}`,
      detector: 'ensemble',
      series: windows(17, (_w, _r, x) => Math.round(x / step) * step, { noise, readingsPerWindow: 5 }),
      expect: 'quiet',
    }),
  ),
  {
    name: 'static-threshold: inside the limits',
    detector: 'static-threshold',
    config: { min: 0, max: 40 },
    series: windows(16),
    expect: 'quiet',
  },

  // The ensemble on window aggregates: each kind of fault.
  {
    name: 'ensemble: one-reading spike (window max)',
    detector: 'ensemble',
    series: windows(21, (w, r, x) => (w === AT && r === 3 ? x + 5 : x)),
    expect: { within: 1 },
  },
  {
    name: 'ensemble: one-reading dip (window min)',
    detector: 'ensemble',
    series: windows(22, (w, r, x) => (w === AT && r === 3 ? x - 5 : x)),
    expect: { within: 1 },
  },
  {
    name: 'ensemble: level shift',
    detector: 'ensemble',
    series: windows(23, (w, _r, x) => (after(w) ? x + 1.5 : x)),
    expect: { within: 3 },
  },
  {
    name: 'ensemble: drift',
    detector: 'ensemble',
    series: windows(24, (w, _r, x) => (after(w) ? x + 0.06 * (w - AT) : x)),
    expect: { within: 40 },
  },
  {
    name: 'ensemble: stuck sensor (no spread for several windows)',
    detector: 'ensemble',
    series: windows(25, (w, _r, x) => (after(w) && w < AT + 12 ? 21.25 : x)),
    expect: { within: 3 },
  },
  {
    name: 'ensemble: noise burst (spread jumps, mean stays)',
    detector: 'ensemble',
    series: windows(26, (w, r, x) => (after(w) && w < AT + 6 ? x + (r % 2 ? 1 : -1) : x)),
    expect: { within: 2 },
  },
  {
    name: 'ensemble: a raw spike in white noise',
    detector: 'ensemble',
    series: () => bump(rawSeries(27, N), AT, 1, 12),
    expect: { within: 1 },
  },

  // The members on their own.
  {
    name: 'robust-zscore: a spike in white noise',
    detector: 'robust-zscore',
    series: () => bump(rawSeries(31, N), AT, 1, 14),
    expect: { within: 1 },
  },
  {
    name: 'ewma: a level shift in white noise',
    detector: 'ewma',
    series: () => bump(rawSeries(32, N), AT, N, 12),
    expect: { within: 2 },
  },
  {
    name: 'seasonal: a missing daily peak',
    detector: 'seasonal',
    series: () =>
      rawSeries(33, N, { dailyAmplitude: 20, noise: 0.5 }).map((p, i) =>
        i >= AT && i < AT + 100 ? { ...p, value: 50, min: 50, max: 50 } : p,
      ),
    expect: { within: 40 },
  },
  {
    name: 'rate-of-change: a jump in a smooth series',
    detector: 'rate-of-change',
    series: () => bump(rawSeries(34, N, { dailyAmplitude: 10, noise: 0.05 }), AT, N, 3),
    expect: { within: 1 },
  },
  // Novelty remembers how far shapes were from their neighbours while its memory first covered
  // a cycle (all new then); that fades with the calibration half-life, so judge it later on.
  {
    name: 'novelty: a rhythm never seen before, inside the usual range',
    detector: 'novelty',
    series: () =>
      rawSeries(35, 6 * N, { dailyAmplitude: 10, noise: 0.3 }).map((p, i) =>
        i >= 6 * AT && i < 6 * AT + 12 ? { ...p, value: p.value + (i % 2 ? 8 : -8) } : p,
      ),
    expect: { within: 12, at: 6 * AT },
  },
  {
    name: 'flatline: stuck windows',
    detector: 'flatline',
    series: windows(36, (w, _r, x) => (after(w) && w < AT + 12 ? 21.25 : x)),
    expect: { within: 4 },
  },
  {
    name: 'volatility: a noise burst',
    detector: 'volatility',
    series: windows(37, (w, r, x) => (after(w) && w < AT + 6 ? x + (r % 2 ? 1 : -1) : x)),
    expect: { within: 1 },
  },
  {
    name: 'static-threshold: one reading above the limit',
    detector: 'static-threshold',
    config: { max: 40 },
    series: windows(38, (w, r, x) => (w === AT && r === 0 ? 45 : x)),
    expect: { within: 1 },
  },
  {
    name: 'missing: the data resumes after a dropout',
    detector: 'missing',
    series: windows(39, undefined, { missing: (w: number) => w > AT - 30 && w < AT }),
    expect: { within: 1 },
  },
];

/** Adds `by` σ-units to `len` points from `at`. */
function bump(points: SeriesPoint[], at: number, len: number, by: number): SeriesPoint[] {
  return points.map((p, i) =>
    i >= at && i < at + len ? { ...p, value: p.value + by, min: p.min + by, max: p.max + by } : p,
  );
}

for (const c of cases) {
  test(c.name, () => {
    const detector = createDetector(c.detector, c.config ?? {});
    const points = c.series();
    const flagged: number[] = [];
    let worst = { score: 0, i: -1, reason: '' };
    points.forEach((p, i) => {
      const v = detector.update(p);
      assert.ok(v.score >= 0 && v.score <= 1 && Number.isFinite(v.score), `score in [0, 1] at ${i}: ${v.score}`);
      if (i >= WARM && v.score >= 0.5) flagged.push(i);
      if (i >= WARM && v.score > worst.score) worst = { score: v.score, i, reason: v.reason };
    });
    // Points are indexed by position; a dropout shifts positions, so anomalies are located by time.
    const at = c.expect === 'quiet' ? AT : (c.expect.at ?? AT);
    const atIndex = points.findIndex((p) => p.ts >= points[0]!.ts + at * 300_000);
    if (c.expect === 'quiet') {
      assert.deepEqual(
        flagged,
        [],
        `flagged at ${flagged.slice(0, 5).join(', ')}: ${worst.reason} (${worst.score.toFixed(3)})`,
      );
    } else {
      const { within } = c.expect;
      const hit = flagged.find((i) => i >= atIndex && i < atIndex + within);
      assert.ok(
        hit !== undefined,
        `not flagged within ${within} points of ${atIndex}; best ${worst.score.toFixed(3)} at ${worst.i}: ${worst.reason}`,
      );
      const early = flagged.filter((i) => i < atIndex);
      // The ensemble alarms at NAB's best threshold, one point in about 300 for a member (each
      // conservative): on a clean sensor about one false alarm in 1,000-2,000 windows, from the
      // daily-cycle member's first days (its bins seen a few times). A member alone, at its own
      // alarm (one in 10,000), none.
      const allowed = c.detector === 'ensemble' ? Math.floor((atIndex - WARM) / ENSEMBLE_FALSE_ALARM_SPACING) : 0;
      assert.ok(
        early.length <= allowed,
        `false alarms before the fault: ${early.slice(0, 5).join(', ')} (at most ${allowed})`,
      );
    }
  });
}

test('missing: tick reports a silent series by its own cadence, and changes nothing', () => {
  const points = sensorWindows({ seed: 41, windows: 600, dailyAmplitude: 5 });
  const a = createDetector('ensemble');
  const b = createDetector('ensemble');
  for (const p of points) {
    a.update(p);
    b.update(p);
  }
  const last = points.at(-1)!.ts;
  assert.ok(a.tick!(last + 300_000).score < 0.5, 'one cadence late is not overdue');
  const late = a.tick!(last + 3 * 3_600_000);
  assert.ok(late.score >= 0.5, `three hours of silence on a 5-minute series: ${late.score} ${late.reason}`);
  assert.match(late.reason, /no data for/);
  // tick left the state as it was: the next verdicts are identical to those of an untouched twin.
  const next = { ...points.at(-1)!, ts: last + 300_000 };
  assert.deepEqual(a.update(next), b.update(next));
  assert.deepEqual(a.snapshot(), b.snapshot());
});

test('the ensemble names what it saw', () => {
  const points = sensorWindows({
    seed: 42,
    windows: N,
    dailyAmplitude: 5,
    fault: (w, r, x) => (w === AT && r === 3 ? x + 5 : x),
  });
  const d = createDetector('ensemble');
  let reason = '';
  points.forEach((p, i) => {
    const v = d.update(p);
    if (i === AT) reason = v.reason;
  });
  assert.match(reason, /spread|max|above/);
});

test('ensemble calibration overrides only the keys it gives: a member keeps its own for the rest', () => {
  const config = EnsembleConfig.parse({ calibration: { warmupMs: 7_200_000, rampMs: 7_200_000 }, volatility: {} });
  // What the ensemble spreads over each member's calibration: the given keys, no filled-in defaults
  // (which replaced, for one, volatility's tail index 12 with 6).
  assert.deepEqual(config.calibration, { warmupMs: 7_200_000, rampMs: 7_200_000 });
  assert.throws(() => EnsembleConfig.parse({ calibration: { warmupMs: -1 } }), /warmupMs/);
});

test('the ensemble scores a reported event by the step past the alarm it reached, so a threshold a hair above the alarm loses none', () => {
  assert.deepEqual(
    [0, 1, 2.49, 2.5, 2.51, 3.49, 3.5, 5.2].map((s) => reportedSurprise(s, 2.5, 1)),
    [0, 1, 2.49, 2.5, 2.5, 2.5, 3.5, 4.5],
  );
  assert.equal(reportedSurprise(2.7, 2.5, 0), 2.7, 'no margin, no steps');
  // Level shifts creeping in over an hour each: events that cross the alarm gradually.
  const series = rawSeries(51, N).map((p, i) => {
    const by = i >= AT ? Math.min(12, (i - AT) * 1) : i >= 1500 ? Math.min(8, (i - 1500) * 0.7) : 0;
    return { ...p, value: p.value + by, min: p.min + by, max: p.max + by };
  });
  const d = createDetector('ensemble');
  const steps = [0, 1, 2, 3, 4, 5].map((k) => scoreFromSurprise(2.5 + k, 2.5));
  const reported = series.map((p) => d.update(p).score).filter((x) => x >= 0.5);
  assert.ok(reported.length >= 2, `both shifts reported: ${reported.join(', ')}`);
  for (const x of reported)
    assert.ok(
      steps.some((y) => Math.abs(x - y) < 1e-12),
      `${x} is one of the steps ${steps.map((y) => y.toFixed(3)).join(', ')}`,
    );
});
