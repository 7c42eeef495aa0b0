import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSeriesCsv } from '@tributary/cloud-processor';
import { loadCorpus, NabCorpusError, windowsToRows } from './corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const vendored = path.resolve(here, '..', '..', 'nab');

/** A NAB folder whose labels and profiles are copies and whose `data/` holds what `fill` puts there. */
function nabFolder(t: { after(fn: () => void): void }, fill: (data: string) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(path.join(vendored, 'labels'), path.join(dir, 'labels'), { recursive: true });
  cpSync(path.join(vendored, 'config'), path.join(dir, 'config'), { recursive: true });
  mkdirSync(path.join(dir, 'data'));
  fill(path.join(dir, 'data'));
  return dir;
}

test('category folders that are symlinks are followed', (t) => {
  const dir = nabFolder(t, (data) =>
    symlinkSync(path.join(vendored, 'data', 'realTraffic'), path.join(data, 'realTraffic'), 'dir'),
  );
  const corpus = loadCorpus(dir);
  assert.equal(corpus.files.length, 7);
  assert.equal(
    corpus.files.reduce((s, f) => s + f.windows.length, 0),
    14,
  );
});

test('a NAB folder without data files is an error, not a score of 0.00', (t) => {
  const dir = nabFolder(t, () => undefined);
  assert.throws(
    () => loadCorpus(dir),
    (err: unknown) => err instanceof NabCorpusError && /no NAB data files/.test(err.message),
  );
  const bench = spawnSync(process.execPath, [path.join(here, 'bench.js')], {
    encoding: 'utf8',
    env: { ...process.env, NAB_DIR: dir },
  });
  assert.notEqual(bench.status, 0);
  assert.match(bench.stderr, /no NAB data files/);
});

test('nab --help prints the usage and exits 0; an unknown option exits 2 with the usage', () => {
  const help = spawnSync(process.execPath, [path.join(here, 'cli.js'), '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: node bench\/dist\/nab\/cli\.js /);
  const bad = spawnSync(process.execPath, [path.join(here, 'cli.js'), '--bogus'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Unknown option '--bogus'[\s\S]*usage: node bench\/dist\/nab\/cli\.js/);
});

test('windows map to rows by exact timestamp, the end searched from the start on', () => {
  // A file that steps back in time: the window's end is found after its start.
  const rows = parseSeriesCsv(
    'timestamp,value\n2014-01-07 02:50:00,1\n2014-01-07 02:55:00,2\n2014-01-07 02:00:00,3\n2014-01-07 02:05:00,4\n2014-01-07 02:55:00,5',
  );
  assert.deepEqual(windowsToRows('f', rows, [['2014-01-07 02:00:00.000000', '2014-01-07 02:55:00.000000']]), [[2, 4]]);
  assert.throws(
    () => windowsToRows('f', rows, [['2014-01-08 00:00:00.000000', '2014-01-08 00:05:00.000000']]),
    /does not match/,
  );
});
