import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoryOf, leaveOneCategoryOut } from './cross-validate.js';
import { scoreAtThreshold, scoreProfile, type ScoredFile } from './score.js';

const std = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };

/** A file of 200 rows with one window at [100, 119] and the given scores at rows (others 0). */
function file(name: string, scores: Record<number, number>): ScoredFile {
  const s = new Float64Array(200);
  for (const [i, v] of Object.entries(scores)) s[Number(i)] = v;
  return { name, windows: [[100, 119]], scores: s };
}

test('leave one category out: each category is scored at the threshold the others give', () => {
  // Category a's anomalies score 0.9, b's 0.6; b also has a false positive at 0.5.
  const files = [file('a/1.csv', { 100: 0.9 }), file('a/2.csv', { 101: 0.9 }), file('b/1.csv', { 100: 0.6, 40: 0.5 })];
  const cv = leaveOneCategoryOut(files, std);
  assert.deepEqual(
    cv.folds.map((f) => [f.category, f.threshold]),
    [
      ['a', 0.6],
      ['b', 0.9],
    ],
  );
  // Held out, b misses its window at a's threshold 0.9; in-sample one threshold (0.6) finds all three.
  const heldOut = scoreAtThreshold(files.slice(0, 2), std, 0.6).raw + scoreAtThreshold(files.slice(2), std, 0.9).raw;
  assert.ok(Math.abs(cv.normalized - (100 * (heldOut + 3)) / 6) < 1e-12);
  assert.ok(cv.normalized < scoreProfile(files, std).normalized);
  assert.equal(categoryOf('realTraffic/speed_6005.csv'), 'realTraffic');
});
