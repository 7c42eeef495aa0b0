import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lines, parseNabTimestamp } from '@tributary/cloud-processor';
import { defaultSkabDir, loadSkab, SKAB_TRAINING_ROWS } from './data.js';
import {
  alarmTimes,
  binaryScore,
  changepointScore,
  changepointWindows,
  CP_PROFILES,
  curveScore,
  type SkabScoredRun,
} from './score.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const skabDir = defaultSkabDir(repoRoot);

test('alarms are the switches of the prediction, and its first row when it is 1', () => {
  assert.deepEqual(alarmTimes([10, 11, 12, 13, 14], [1, 1, 0, 0, 1]), [10, 12, 14]);
  assert.deepEqual(alarmTimes([10, 11, 12], [0, 1, 1]), [11]);
});

test('overlapping windows: the later one starts where the earlier ends', () => {
  assert.deepEqual(changepointWindows([100_000, 0]), [
    [0, 60_000],
    [100_000, 160_000],
  ]);
  assert.deepEqual(changepointWindows([0, 30_000]), [
    [0, 60_000],
    [60_000, 90_000],
  ]);
});

test('the scoring curve runs from A_tp at the left edge to A_fp at the right edge', () => {
  const p = CP_PROFILES.standard;
  assert.ok(Math.abs(curveScore(0, 0, 60, p) - 1) < 1e-12);
  assert.ok(Math.abs(curveScore(0, 60, 60, p) - -0.11) < 1e-12);
  assert.ok(Math.abs(curveScore(0, 30, 60, p) - 0.445) < 0.01);
});

test('a run with one window: a hit on the left edge scores 100, none 0, a false alarm costs', () => {
  const ts = [0, 1000, 2000, 3000, 4000];
  const run = (predicted: number[]): SkabScoredRun => ({ ts, truth: [0, 1, 1, 0, 0], predicted, changepoints: [1000] });
  assert.equal(changepointScore([run([0, 1, 1, 0, 0])]).standard, 100);
  assert.equal(changepointScore([run([0, 0, 0, 0, 0])]).standard, 0);
  // An alarm at 0 (before the window) and the switch back at 3000 (inside it, after the hit).
  const s = changepointScore([run([1, 1, 1, 0, 0])]);
  assert.equal(s.falseAlarms, 1);
  assert.equal(s.missed, 1 - 1);
  const b = binaryScore([run([1, 1, 1, 0, 0])]);
  assert.deepEqual([b.tp, b.tn, b.fp, b.fn], [2, 2, 1, 0]);
});

test('reproduces the leaderboard scorer on the published Conv-AE predictions (fixtures/golden-conv-ae-valve1.json)', (t) => {
  if (skabDir === undefined)
    return t.skip('no SKAB folder (set SKAB_DIR): it is GPL-3.0 data, not kept in this repository');
  const golden = JSON.parse(readFileSync(path.join(skabDir, 'fixtures', 'golden-conv-ae-valve1.json'), 'utf8')) as {
    binary: { F1: number; FAR: number; MAR: number; f1_raw: number; TP: number; TN: number; FP: number; FN: number };
    nab: { Standard: number; LowFP: number; LowFN: number; missed: number; FPs: number; CPs: number; delay_s: number };
  };
  const fixtureDir = path.join(skabDir, 'fixtures', 'conv-ae-valve1');
  const runs = loadSkab(skabDir, ['valve1']);
  assert.equal(runs.length, readdirSync(fixtureDir).length);
  const scored = runs.map((run): SkabScoredRun => {
    const rows = lines(readFileSync(path.join(fixtureDir, path.basename(run.name)), 'utf8'))
      .slice(1)
      .map((l) => l.split(','));
    const ts = run.ts.slice(SKAB_TRAINING_ROWS);
    assert.deepEqual(
      rows.map((r) => parseNabTimestamp(r[0]!)),
      ts,
      `${run.name}: the fixture's rows are the scored rows`,
    );
    return {
      ts,
      truth: run.anomaly.slice(SKAB_TRAINING_ROWS),
      predicted: rows.map((r) => Number(r[1])),
      changepoints: run.ts.filter((_, i) => run.changepoint[i] === 1),
    };
  });
  const b = binaryScore(scored);
  assert.deepEqual([b.tp, b.tn, b.fp, b.fn], [golden.binary.TP, golden.binary.TN, golden.binary.FP, golden.binary.FN]);
  assert.deepEqual([b.f1, b.far, b.mar], [golden.binary.F1, golden.binary.FAR, golden.binary.MAR]);
  assert.ok(Math.abs(b.f1Raw - golden.binary.f1_raw) < 1e-12);
  const c = changepointScore(scored);
  assert.deepEqual([c.standard, c.lowFp, c.lowFn], [golden.nab.Standard, golden.nab.LowFP, golden.nab.LowFN]);
  assert.deepEqual([c.missed, c.falseAlarms, c.changepoints], [golden.nab.missed, golden.nab.FPs, golden.nab.CPs]);
  assert.equal(Math.round(c.meanDelayMs / 100) / 10, golden.nab.delay_s);
});
