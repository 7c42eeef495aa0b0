import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { csvSeriesNames, fromCsvFiles } from './sources.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cli.js');

function twoFilesNamedOne(t: { after(fn: () => void): void }): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'replay-csv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rows = (base: number): string =>
    [
      'timestamp,value',
      ...Array.from(
        { length: 50 },
        (_, i) =>
          `2024-01-01 ${String(Math.floor(i / 12)).padStart(2, '0')}:${String((i % 12) * 5).padStart(2, '0')}:00,${base + (i % 3)}`,
      ),
    ].join('\n');
  return ['pump-a', 'pump-b'].map((d, k) => {
    mkdirSync(path.join(dir, d));
    const f = path.join(dir, d, '1.csv');
    writeFileSync(f, rows(10 * (k + 1)));
    return f;
  });
}

test('CSV series names: base names when they differ, parent folders where they clash', () => {
  assert.deepEqual(csvSeriesNames(['/data/a/x.csv', '/data/b/y.csv']), ['x', 'y']);
  assert.deepEqual(csvSeriesNames(['/data/a/1.csv', '/data/b/1.csv', '/data/b/2.csv']), ['a/1', 'b/1', '2']);
  assert.deepEqual(csvSeriesNames(['/s/a/k/1.csv', '/s/b/k/1.csv']), ['a/k/1', 'b/k/1']);
  assert.throws(() => csvSeriesNames(['/data/a/1.csv', '/data/b/../a/1.csv']), /given twice/);
});

test('two CSV files with the same base name are two series, not one', (t) => {
  const files = twoFilesNamedOne(t);
  const input = fromCsvFiles(files);
  assert.equal(input.size, 2);
  assert.deepEqual(
    [...input.values()].map((points) => [points.length, points[0]!.device]),
    [
      [50, 'pump-a/1'],
      [50, 'pump-b/1'],
    ],
  );
});

test('tributary-replay csv replays both files of the same base name', (t) => {
  const files = twoFilesNamedOne(t);
  const r = spawnSync(process.execPath, [cli, 'csv', ...files], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /replayed 100 points of 2 series/);
});
