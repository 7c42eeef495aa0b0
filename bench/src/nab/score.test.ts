import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultNabDir, loadCorpus, scoresFromResults } from './corpus.js';
import { parseResultsCsv } from '@tributary/cloud-processor';
import {
  probationaryRows,
  rowWeights,
  scaledSigmoid,
  scoreProfile,
  type FileResult,
  type ProfileResult,
} from './score.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const nabDir = defaultNabDir(repoRoot);
const haveNab = existsSync(path.join(nabDir, 'fixtures', 'golden.json'));

const std = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };

test('scaled sigmoid matches the README values', () => {
  for (const [y, s] of [
    [-1, 0.98661],
    [0, 0],
    [1, -0.98661],
    [3.0001, -1],
  ] as const) {
    assert.ok(Math.abs(scaledSigmoid(y) - s) < 1e-5, `S(${y})`);
  }
});

test('probationary period is 15% capped at 750 rows', () => {
  for (const [n, p] of [
    [100, 15],
    [4032, 604],
    [5000, 750],
    [22695, 750],
  ] as const)
    assert.equal(probationaryRows(n), p);
});

test('row weights: first row of a window is A_TP, after it W′−1 is used, before the first window −A_FP', () => {
  const { weight, window } = rowWeights(30, [[10, 14]], std);
  assert.equal(weight[0], -0.11);
  assert.ok(Math.abs(weight[10]! - 1) < 1e-12);
  assert.equal(window[12], 0);
  assert.equal(window[15], -1);
  // One row after a window of width 5: S(1 / 4), not S(1 / 5).
  assert.ok(Math.abs(weight[15]! - 0.11 * scaledSigmoid(1 / 4)) < 1e-15);
});

test('exact threshold search: a window counts its best detection, probation is free', () => {
  // 40 rows → P = 6; window [20, 24].
  const scores = new Float64Array(40);
  scores[3] = 1; // probationary: ignored
  scores[22] = 0.8; // inside the window, the middle
  scores[21] = 0.6; // earlier in the window: better, but only at a lower threshold
  scores[30] = 0.6; // false positive at the same score
  const r = scoreProfile([{ name: 'f', windows: [[20, 24]], scores }], std);
  const { weight } = rowWeights(40, [[20, 24]], std);
  const at08 = weight[22]!;
  const at06 = weight[21]! + weight[30]!;
  assert.equal(r.threshold, at06 > at08 ? 0.6 : 0.8);
  assert.equal(r.windowsDetected, 1);
  assert.equal(r.normalized, (100 * (r.raw + 1)) / 2);
});

test('exact threshold search: of tied thresholds the highest wins', () => {
  const scores = new Float64Array(40);
  scores[20] = 0.9; // first row of the window
  scores[23] = 0.5; // later in the same window: adds nothing, so 0.5 ties with 0.9
  const r = scoreProfile([{ name: 'f', windows: [[20, 24]], scores }], std);
  assert.equal(r.threshold, 0.9);
  assert.equal(r.tpRows, 1);
});

function assertClose(actual: FileResult, expected: FileResult, where: string): void {
  assert.equal(actual.windows, expected.windows, `${where} windows`);
  assert.equal(actual.windowsDetected, expected.windowsDetected, `${where} windowsDetected`);
  assert.equal(actual.tpRows, expected.tpRows, `${where} tpRows`);
  assert.equal(actual.fpRows, expected.fpRows, `${where} fpRows`);
  assert.ok(Math.abs(actual.raw - expected.raw) <= 1e-9, `${where} raw ${actual.raw} vs ${expected.raw}`);
}

interface Golden {
  corpus: { files: number; windows: number; rows: number; scorableRows: number };
  profiles: Record<string, { tpWeight: number; fpWeight: number; fnWeight: number }>;
  detectors: Record<string, { scores: string; profiles: Record<string, ProfileResult> }>;
}

test('reproduces fixtures/golden.json for ARTime, CAD OSE and null', {
  skip: haveNab ? false : `no NAB folder at ${nabDir}`,
}, () => {
  const golden = JSON.parse(readFileSync(path.join(nabDir, 'fixtures', 'golden.json'), 'utf8')) as Golden;
  const corpus = loadCorpus(nabDir);
  assert.equal(corpus.files.length, golden.corpus.files);
  assert.equal(
    corpus.files.reduce((s, f) => s + f.rows.length, 0),
    golden.corpus.rows,
  );
  assert.equal(
    corpus.files.reduce((s, f) => s + f.rows.length - probationaryRows(f.rows.length), 0),
    golden.corpus.scorableRows,
  );
  for (const [name, det] of Object.entries(golden.detectors)) {
    const results = det.scores.endsWith('.csv')
      ? parseResultsCsv(readFileSync(path.join(nabDir, det.scores), 'utf8'))
      : new Map();
    const files = scoresFromResults(corpus, results);
    for (const [pname, expected] of Object.entries(det.profiles)) {
      const profile = corpus.profiles[pname];
      assert.ok(profile, `profile ${pname}`);
      assert.deepEqual(profile, golden.profiles[pname]);
      const got = scoreProfile(files, profile);
      const where = `${name}/${pname}`;
      assert.equal(got.threshold, expected.threshold, `${where} threshold`);
      assert.equal(got.nullRaw, expected.nullRaw);
      assert.equal(got.perfectRaw, expected.perfectRaw);
      assertClose(got, expected, where);
      assert.ok(Math.abs(got.normalized - expected.normalized) <= 1e-9, `${where} normalized`);
      for (const [file, e] of Object.entries(expected.perFile ?? {})) {
        const g = got.perFile[file];
        assert.ok(g, `${where} ${file}`);
        assertClose(g, e, `${where} ${file}`);
      }
    }
  }
});
