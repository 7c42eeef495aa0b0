/**
 * Checkpoint and restore: a detector created from a snapshot (sent through JSON, as it would be
 * stored) gives bit-identical verdicts to one that ran without interruption, for every detector
 * in the registry and at any split point.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { SeriesPoint, Verdict } from './detector.js';
import { createDetector, detectors, type DetectorName } from './registry.js';
import { rawSeries, sensorWindows } from './synthetic.js';

/** Configs that exercise optional paths (limits on, drift on) besides the defaults. */
const configs: Partial<Record<DetectorName, unknown[]>> = {
  ensemble: [{}, { limits: { min: 10, max: 30 } }],
  'static-threshold': [{ min: 10, max: 30 }],
  seasonal: [{}, { drift: 'mean-residual', interpolate: true }],
  missing: [{}, { reportOn: 'tick' }],
  // Judging early, with a ring that wraps several times before the split points.
  drift: [{}, { warmupMs: 48 * 300_000, historyMs: 96 * 300_000, slack: 0.25, threshold: 3 }],
};

function series(seed: number): SeriesPoint[] {
  // Window aggregates with a stuck stretch, a spike and a dropout, then raw rows with a repeat.
  const w = sensorWindows({
    seed,
    windows: 900,
    dailyAmplitude: 5,
    fault: (i, r, x) => (i >= 500 && i < 510 ? 21 : i === 700 && r === 2 ? x + 6 : x),
    missing: (i) => i > 600 && i < 620,
  });
  const last = w.at(-1)!.ts;
  const raw = rawSeries(seed + 1, 300, { dailyAmplitude: 3 }).map((p, i) => ({ ...p, ts: last + (i + 1) * 300_000 }));
  raw[100] = { ...raw[100]!, ts: raw[99]!.ts }; // a repeated timestamp
  return [...w, ...raw];
}

function run(
  name: DetectorName,
  config: unknown,
  points: readonly SeriesPoint[],
  split: number,
): { straight: Verdict[]; resumed: Verdict[] } {
  const a = createDetector(name, config);
  const straight = points.map((p) => a.update(p));
  const b = createDetector(name, config);
  const resumed: Verdict[] = points.slice(0, split).map((p) => b.update(p));
  const stored = JSON.parse(JSON.stringify(b.snapshot())) as unknown;
  const c = createDetector(name, config, stored);
  for (const p of points.slice(split)) resumed.push(c.update(p));
  return { straight, resumed };
}

for (const name of Object.keys(detectors) as DetectorName[]) {
  for (const config of configs[name] ?? [{}]) {
    test(`${name} ${JSON.stringify(config)}: restored from a snapshot, it continues bit for bit`, () => {
      const points = series(7);
      for (const split of [1, 37, 520, 700, 1000]) {
        const { straight, resumed } = run(name, config, points, split);
        assert.deepEqual(resumed, straight, `split at ${split}`);
      }
    });
  }
}

test('ensemble: identical after restore at any split point (property)', () => {
  const points = series(9).slice(0, 700);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: points.length }), (split) => {
      const { straight, resumed } = run('ensemble', {}, points, split);
      assert.deepEqual(resumed, straight);
    }),
    { numRuns: 15 },
  );
});

test('a snapshot of a snapshot is the same snapshot, and survives JSON unchanged', () => {
  const points = series(3);
  const a = createDetector('ensemble');
  for (const p of points) a.update(p);
  const s1 = JSON.stringify(a.snapshot());
  const b = createDetector('ensemble', {}, JSON.parse(s1));
  assert.equal(JSON.stringify(b.snapshot()), s1);
});

test('snapshots of before the compact state restore as they did: what they held and newer ones leave out is read or ignored', () => {
  const points = series(5);
  const split = 700;
  const a = createDetector('ensemble');
  const straight = points.map((p) => a.update(p));
  const b = createDetector('ensemble');
  for (const p of points.slice(0, split)) b.update(p);
  const s = JSON.parse(JSON.stringify(b.snapshot())) as { members: Record<string, Record<string, unknown>> };
  const level = s.members.level as { history: Record<'value' | 'max' | 'min', number[]> };
  const daily = s.members.daily as { deltas: number[]; visits: number[]; driftMeter?: unknown; meter: unknown };
  // Older snapshots: the level member's max and min histories (never read without excursions), the
  // daily cycle's cadence samples and its idle drift calibration, and visits counted past 255.
  assert.deepEqual([level.history.max, level.history.min], [[], []]);
  level.history.max = level.history.value.map((x) => x + 1);
  level.history.min = level.history.value.map((x) => x - 1);
  assert.equal(daily.driftMeter, undefined);
  daily.driftMeter = daily.meter;
  daily.deltas = Array.from({ length: 15 }, () => 300_000);
  daily.visits = daily.visits.map((v) => (v >= 2 ? v + 1_000 : v)); // 0, 1 and more are what count
  const c = createDetector('ensemble', {}, s);
  const resumed = points.slice(split).map((p) => c.update(p));
  assert.deepEqual(resumed, straight.slice(split));
});
