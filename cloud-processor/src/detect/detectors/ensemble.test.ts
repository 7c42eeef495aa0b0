import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawPoint, type SeriesPoint } from '../detector.js';
import { createDetector } from '../registry.js';
import { gaussian, prng, sensorWindows } from '../synthetic.js';

const FIVE_MINUTES = 300_000;
const DAY = 86_400_000;

/** Every 5 minutes from midnight: calm at night (σ 1 until 08:00), five times noisier by day, around 100. */
function dayAndNight(seed: number, days: number): SeriesPoint[] {
  const normal = gaussian(prng(seed));
  const points: SeriesPoint[] = [];
  for (let ts = 0; ts < days * DAY; ts += FIVE_MINUTES) {
    const sigma = ts % DAY < DAY / 3 ? 1 : 5;
    points.push(rawPoint(ts, 100 + sigma * normal()));
  }
  return points;
}

test("the ensemble's calibrations learn a whole day before they judge: a series calmer at night than by day raises no alarm on its first morning", () => {
  for (const seed of [1, 2, 3]) {
    const points = dayAndNight(seed, 1.5);
    const d = createDetector('ensemble');
    const alarms = points.filter((p) => d.update(p).score >= 0.5).map((p) => `${(p.ts / 3_600_000).toFixed(1)} h`);
    assert.deepEqual(alarms, [], `seed ${seed}: alarms at ${alarms.join(', ')}`);
  }
});

test('after its first day the ensemble still alarms at once on a spike of the calm night', () => {
  const points = dayAndNight(4, 3);
  const at = (2 * DAY + 3 * 3_600_000) / FIVE_MINUTES; // 03:00 on the third day
  points[at] = rawPoint(points[at]!.ts, 130);
  const d = createDetector('ensemble');
  const scores = points.map((p) => d.update(p).score);
  assert.ok(scores[at]! >= 0.5, `the spike scored ${scores[at]}`);
});

/** Every 5 minutes for three days around 100 (σ 1), with spikes to 130 at 03:00 on the third day and `gapH` hours later. */
function twoSpikes(seed: number, gapH: number): { points: SeriesPoint[]; first: number; second: number } {
  const normal = gaussian(prng(seed));
  const points: SeriesPoint[] = [];
  for (let ts = 0; ts < 3 * DAY; ts += FIVE_MINUTES) points.push(rawPoint(ts, 100 + normal()));
  const first = (2 * DAY + 3 * 3_600_000) / FIVE_MINUTES;
  const second = first + (gapH * 3_600_000) / FIVE_MINUTES;
  for (const at of [first, second]) points[at] = rawPoint(points[at]!.ts, 130);
  return { points, first, second };
}

test("a crossing while the series still strays (a quarter of the alarm) is the event's, up to twice the period; later ones are news", () => {
  // Between the spikes no point reaches half the alarm for two hours, but the series keeps straying
  // at a quarter of it: not back to normal, so 3.5 hours later it is one event (it was two).
  const soon = twoSpikes(3, 3.5);
  const d = createDetector('ensemble');
  const scores = soon.points.map((p) => d.update(p).score);
  assert.ok(scores[soon.first]! >= 0.5, `the first spike scored ${scores[soon.first]}`);
  assert.equal(scores[soon.second], 0, 'the second spike 3.5 h later is the same event');
  // Six hours later, past twice the period, it is reported again.
  const late = twoSpikes(3, 6);
  const e = createDetector('ensemble');
  const lateScores = late.points.map((p) => e.update(p).score);
  assert.ok(lateScores[late.second]! >= 0.5, `the second spike 6 h later scored ${lateScores[late.second]}`);
});

test("a series that falls silent on its first day is reported missing: the day-long warm-up is the value members', not silence's", () => {
  const HOUR = 3_600_000;
  // Raw rows every 5 minutes, and 60-s windows of one reading each, six hours old when the sensor dies.
  for (const [every, windowMs] of [
    [FIVE_MINUTES, undefined],
    [60_000, 60_000],
  ] as const) {
    const normal = gaussian(prng(1));
    const d = createDetector('ensemble', {}, undefined, windowMs ? { windowMs } : undefined);
    let ts = every;
    for (; ts < 6 * HOUR; ts += every) {
      const v = 20 + 0.3 * normal();
      d.update({ ts, value: v, min: v, max: v, stddev: 0, count: 1 });
    }
    let reportedAfterMin: number | undefined;
    for (let now = ts; now < ts + 24 * HOUR && reportedAfterMin === undefined; now += 60_000)
      if ((d.tick?.(now).score ?? 0) >= 0.5) reportedAfterMin = (now - ts) / 60_000;
    assert.ok(
      reportedAfterMin !== undefined && reportedAfterMin <= 60,
      `every ${every / 1000} s: silence reported after ${reportedAfterMin ?? 'never (24 h)'} min`,
    );
  }
});

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A 60-s window as the agent sends it: six readings drawn around 20 + `shift` (σ 0.3 × `spread`). */
function minuteWindow(normal: () => number, ts: number, shift: number, spread = 1): SeriesPoint {
  const xs = Array.from({ length: 6 }, () => 20 + shift + 0.3 * spread * normal());
  const mean = xs.reduce((a, b) => a + b) / xs.length;
  const stddev = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return { ts, value: mean, min: Math.min(...xs), max: Math.max(...xs), stddev, count: xs.length };
}

/**
 * Minute windows for four days: a spike of +6 (20 σ) for one window at 03:00 on the third day and a
 * step of +2 (6.7 σ) for ten minutes `gapH` hours later. Returns each window's score.
 */
function spikeThenStep(seed: number, gapH: number): { scores: number[]; first: number; second: number } {
  const normal = gaussian(prng(seed));
  const first = 2 * DAY + 3 * HOUR;
  const second = first + gapH * HOUR;
  const d = createDetector('ensemble', {}, undefined, { windowMs: MINUTE });
  const scores: number[] = [];
  for (let ts = MINUTE; ts < 4 * DAY; ts += MINUTE) {
    const shift = (ts === first ? 6 : 0) + (ts >= second && ts < second + 10 * MINUTE ? 2 : 0);
    scores.push(d.update(minuteWindow(normal, ts, shift)).score);
  }
  return { scores, first: first / MINUTE - 1, second: second / MINUTE - 1 };
}

test('on minute windows a moderate fault six hours after a big spike is reported: chance crossings of half the alarm do not carry the period on', () => {
  for (const seed of [1, 2, 3]) {
    const { scores, first, second } = spikeThenStep(seed, 6);
    assert.ok(scores[first]! >= 0.5, `seed ${seed}: the spike scored ${scores[first]}`);
    // Reported where it starts (it was 0 there: still the spike's period, not ten times more surprising).
    const step = scores.slice(second, second + 10);
    assert.ok(step[0]! >= 0.5, `seed ${seed}: the step 6 h after the spike scored ${step.join(', ')}`);
  }
});

test('on minute windows a noise burst of six hours is one event: its later crossings are not reported again', () => {
  for (const seed of [1, 2, 3]) {
    const normal = gaussian(prng(seed));
    const start = 2 * DAY + 3 * HOUR;
    const end = start + 6 * HOUR;
    const d = createDetector('ensemble', {}, undefined, { windowMs: MINUTE });
    const late: string[] = [];
    for (let ts = MINUTE; ts < end + 4 * HOUR; ts += MINUTE) {
      const v = d.update(minuteWindow(normal, ts, 0, ts >= start && ts < end ? 3 : 1));
      // Its first minutes may report it again ten times more surprising (refractoryMargin); not later.
      if (ts >= start + 30 * MINUTE && v.score >= 0.5) late.push(`${((ts - start) / HOUR).toFixed(2)} h`);
    }
    assert.deepEqual(late, [], `seed ${seed}: reported again at ${late.join(', ')} after the burst began`);
  }
});

/** An environment sensor at the agent's minute windows: one reading a window, rounded as the sensor reports it. */
function oneReadingAMinute(seed: number, spec: { base: number; noise: number; quantum: number; stuckFrom?: number }) {
  return sensorWindows({
    seed,
    windows: 3 * 1_440,
    windowMs: 60_000,
    readingsPerWindow: 1,
    base: spec.base,
    dailyAmplitude: 8 * spec.noise,
    noise: spec.noise,
    weather: { std: 2 * spec.noise, tauMs: 3_600_000 },
    fault: (() => {
      let held = 0;
      return (w: number, _r: number, x: number) => {
        const reading = Math.round(x / spec.quantum) * spec.quantum;
        const from = spec.stuckFrom ?? Infinity;
        if (w === from) held = reading;
        return w >= from && w < from + 60 ? held : reading;
      };
    })(),
  });
}

test('a stuck environment sensor at one reading a minute is alerted within 10 minutes; healthy ones, quantised, are not', () => {
  const sensors = [
    { base: 430, noise: 6, quantum: 1 }, // CO2 in whole ppm
    { base: 45, noise: 0.4, quantum: 0.1 }, // humidity in tenths of a per cent
    { base: 1_010, noise: 0.5, quantum: 0.1 }, // pressure in tenths of a hPa
  ];
  for (const [i, sensor] of sensors.entries()) {
    for (const seed of [1, 2, 3]) {
      const stuckFrom = 2 * 1_440 + 600 + 37 * seed;
      const d = createDetector('ensemble', {}, undefined, { windowMs: 60_000 });
      const verdicts = oneReadingAMinute(seed, { ...sensor, stuckFrom }).map((p) => d.update(p));
      const alarms = verdicts.flatMap((v, w) => (w >= 1_440 && v.score >= 0.5 ? [w] : []));
      const found = alarms.find((w) => w >= stuckFrom && w < stuckFrom + 60);
      assert.ok(
        found !== undefined && found - stuckFrom <= 10,
        `sensor ${i}, seed ${seed}: stuck from window ${stuckFrom}, alarms at ${alarms}`,
      );
      const healthy = createDetector('ensemble', {}, undefined, { windowMs: 60_000 });
      const stuckAlarms = oneReadingAMinute(seed, sensor)
        .map((p) => healthy.update(p))
        .filter((v) => v.score >= 0.5 && /stuck/.test(v.reason));
      assert.deepEqual(
        stuckAlarms.map((v) => v.reason),
        [],
        `sensor ${i}, seed ${seed}: healthy`,
      );
    }
  }
});

test('healthy coarse-step sensors at one reading a minute raise no stuck alarm over 10 days of daily swings', () => {
  // A thermometer in whole or half degrees, a hygrometer in whole per cent, a DS18B20 in 1/16 °C:
  // each step at least its noise, so the level repeats for as long as it stays inside one, longest
  // at the daily peak and trough.
  const sensors = [
    { base: 21, noise: 0.3, quantum: 1, swing: 3 },
    { base: 21, noise: 0.1, quantum: 0.5, swing: 2 },
    { base: 45, noise: 0.2, quantum: 1, swing: 4 },
    { base: 20, noise: 0.02, quantum: 0.0625, swing: 0.5 },
  ];
  for (const [i, { base, noise, quantum, swing }] of sensors.entries()) {
    for (const seed of [1, 2, 3, 4]) {
      const d = createDetector('ensemble', {}, undefined, { windowMs: 60_000 });
      const stuck = sensorWindows({
        seed,
        windows: 10 * 1_440,
        windowMs: 60_000,
        readingsPerWindow: 1,
        base,
        dailyAmplitude: swing,
        noise,
        weather: { std: 2 * noise, tauMs: 3_600_000 },
        fault: (_w, _r, x) => Math.round(x / quantum) * quantum,
      })
        .map((p, w) => ({ w, ...d.update(p) }))
        .filter((v) => v.score >= 0.5 && /stuck/.test(v.reason));
      assert.deepEqual(
        stuck.map((v) => `day ${(v.w / 1_440).toFixed(2)}: ${v.reason}`),
        [],
        `sensor ${i}, seed ${seed}`,
      );
    }
  }
});

test('a series of windows holds no gathering of raw rows, before or after a snapshot is restored', () => {
  const windows = sensorWindows({ seed: 5, windows: 300, windowMs: 60_000, readingsPerWindow: 5, noise: 0.2 });
  const d = createDetector('ensemble', {}, undefined, { windowMs: 60_000 });
  for (const p of windows.slice(0, 200)) d.update(p);
  const taken = d.snapshot() as { raw?: unknown };
  assert.equal(taken.raw, undefined);
  // An older snapshot held a fresh gathering's state for such a series: restored, it makes none.
  const restored = createDetector('ensemble', {}, { ...taken, raw: { cadence: 0, rows: 0, lastTs: null, open: null } });
  for (const p of windows.slice(200)) restored.update(p);
  assert.equal((restored.snapshot() as { raw?: unknown }).raw, undefined);
  // A series of raw rows keeps its gathering through a restore.
  const rows = createDetector('ensemble', {});
  for (const [i, p] of windows.slice(0, 50).entries()) rows.update(rawPoint(1_000 * i, p.value));
  const again = createDetector('ensemble', {}, rows.snapshot());
  assert.notEqual((again.snapshot() as { raw?: unknown }).raw, undefined);
});
