import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesPoint } from '../detector.js';
import { createDrift, DriftConfig } from './drift.js';
import { createEnsemble, EnsembleConfig } from './ensemble.js';
import { gaussian, prng, rawSeries, sensorWindows, type SensorSpec } from '../synthetic.js';

const DAY = 288;
const HOUR_MS = 3_600_000;
/** A room thermometer: 5-minute windows of 60 readings, a daily cycle, weather that wanders for hours. */
const room = (seed: number, extra: Partial<SensorSpec> = {}): SeriesPoint[] =>
  sensorWindows({
    seed,
    windows: 7 * DAY,
    readingsPerWindow: 60,
    dailyAmplitude: 3,
    noise: 0.08,
    weather: { std: 0.6, tauMs: 6 * HOUR_MS },
    ...extra,
  });

/** Indexes of the windows at which the drift member alarms (score ≥ 0.5), with the first reason. */
function alarms(points: SeriesPoint[]): { at: number[]; reason: string | undefined } {
  const d = createDrift(DriftConfig.parse({}));
  const at: number[] = [];
  let reason: string | undefined;
  points.forEach((p, i) => {
    const v = d.update(p);
    if (v.score >= 0.5) {
      at.push(i);
      reason ??= v.reason;
    }
  });
  return { at, reason };
}

const START = 4 * DAY;
/** A sensor fouling: from day 4 on its readings creep away, 0.25 °C per window, and never come back. */
const fouling = (w: number, _r: number, x: number): number => (w >= START ? x + 0.25 * (w - START + _r / 60) : x);

test('drift: weather wandering over a daily cycle for a week is not a drift', () => {
  for (const seed of [1, 2, 3]) assert.deepEqual(alarms(room(seed)).at, [], `seed ${seed}`);
});

test('drift: a level with noise on it and no walk (a machine running) is not a drift', () => {
  const machine = sensorWindows({ seed: 4, windows: 7 * DAY, readingsPerWindow: 60, base: 4.2, noise: 0.25 });
  assert.deepEqual(alarms(machine).at, []);
});

test('drift: a sensor creeping away is caught while it creeps, long before it stops', () => {
  for (const seed of [5, 6, 7]) {
    const { at, reason } = alarms(room(seed, { fault: fouling }));
    assert.ok(
      at.length > 0 && at[0]! >= START && at[0]! < START + 12,
      `seed ${seed}: first alarm ${at[0]} within an hour of ${START}`,
    );
    assert.match(reason!, /^drifting up by [\d.]+ to [\d.]+ over \d+ min/);
  }
});

test('drift: the default ensemble reports the creeping sensor through this member', () => {
  const e = createEnsemble(EnsembleConfig.parse({}));
  const flagged = room(8, { fault: fouling })
    .map((p, i) => ({ i, v: e.update(p) }))
    .filter(({ v }) => (v.level ?? v.score) >= 0.5);
  const first = flagged.find(({ i }) => i >= START);
  assert.ok(first && first.i < START + 12, `the ensemble flags it within an hour (first at ${first?.i})`);
  assert.match(first.v.reason, /drifting up/);
  assert.ok(
    flagged.every(({ i }) => i >= START),
    `nothing before it: ${flagged.filter(({ i }) => i < START).map(({ i }) => i)}`,
  );
});

test('drift: a step is not a drift (the step members judge it)', () => {
  const stepped = room(9, { fault: (w, _r, x) => (w >= START ? x + 3 : x) });
  assert.deepEqual(alarms(stepped).at, []);
});

test('drift: raw rows (count 1) get no verdict', () => {
  const rows = rawSeries(10, 3 * DAY, { dailyAmplitude: 3 }).map((p, i) =>
    i >= DAY
      ? { ...p, value: p.value + 0.5 * (i - DAY), min: p.value + 0.5 * (i - DAY), max: p.value + 0.5 * (i - DAY) }
      : p,
  );
  assert.deepEqual(alarms(rows).at, []);
});

/** Three flat days (a weekend and the day the series started), then two weekdays on which an office fills from 08:00 and empties from 18:00 with ventilation's 45-minute time constant (400 ppm of CO2). */
function office(seed: number): SeriesPoint[] {
  const TAU = 9; // windows of 5 minutes
  const occupancy = (w: number, r: number): number => {
    if (w < 3 * DAY) return 0;
    const t = (w % DAY) + r / 60;
    const [tIn, tOut] = [8 * 12, 18 * 12];
    if (t < tIn) return 0;
    if (t <= tOut) return 1 - Math.exp(-(t - tIn) / TAU);
    return (1 - Math.exp(-(tOut - tIn) / TAU)) * Math.exp(-(t - tOut) / TAU);
  };
  return sensorWindows({
    seed,
    windows: 5 * DAY,
    readingsPerWindow: 60,
    base: 420,
    noise: 6,
    weather: { std: 5, tauMs: 2 * HOUR_MS },
    fault: (w, r, x) => Math.round(x + 400 * occupancy(w, r)),
  });
}

test("drift: an office's CO2 first seen filling on a Monday is news at most once; the Tuesday's same filling is that hour's usual change", () => {
  for (const seed of [11, 12, 13]) {
    const { at } = alarms(office(seed));
    assert.deepEqual(
      at.filter((i) => i >= 4 * DAY),
      [],
      `seed ${seed}: the second weekday alarms at ${at.filter((i) => i >= 4 * DAY)}`,
    );
  }
});

test("drift: a level that steps and settles (an office's CO2 filling and emptying, first seen) is not a drift: its tail follows its steps", () => {
  for (const seed of [11, 12, 13]) assert.deepEqual(alarms(office(seed)).at, [], `seed ${seed}`);
});

test('drift: a snapshot of before the summaries (every excess of three days) is replayed into them, and judges on', () => {
  const points = room(1);
  const a = createDrift(DriftConfig.parse({}));
  for (const p of points.slice(0, 3 * DAY)) a.update(p);
  const {
    recent: _r,
    excessChunks: _e,
    sumChunks: _s,
    fill: _f,
    ...rest
  } = a.snapshot() as unknown as Record<string, unknown>;
  // The old snapshot's history: three days of changes less their expected part (float32, base64),
  // as wide as the series' wander (so the scales re-measured from it are the series' own).
  const g = gaussian(prng(3));
  const wander = rest.wander as number;
  assert.ok(wander > 0);
  const history = Float32Array.from({ length: 3 * DAY }, () => wander * g());
  const old = { ...rest, excesses: Buffer.from(history.buffer).toString('base64') };
  const b = createDrift(DriftConfig.parse({}), old);
  const restored = b.snapshot() as unknown as { excessChunks: { points: string }; recent: string };
  // 72 hours of 12 windows, five quantiles each (float32), and the last two hours' excesses exactly.
  assert.equal(Buffer.from(restored.excessChunks.points, 'base64').length, 72 * 5 * 4);
  assert.deepEqual(
    Buffer.from(restored.recent, 'base64'),
    Buffer.from(history.buffer, history.byteOffset + (3 * DAY - 24) * 4, 24 * 4),
  );
  assert.deepEqual(
    points.slice(3 * DAY).flatMap((p, i) => (b.update(p).score >= 0.5 ? [i] : [])),
    [],
  );
});
