import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';

const parts = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ i, state: [i, i * 2] }));

test('a checkpoint of many parts round-trips', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.json.gz');
  await writeCheckpoint(file, parts(5000));
  const read = readCheckpoint(file);
  assert.ok(read?.ok);
  assert.deepEqual([...read.parts], parts(5000));
  assert.equal(read.badLines(), 0);
});

test('a checkpoint encoded in memory round-trips whole, at every size and gzip level', async () => {
  for (const n of [0, 1, 199, 5000]) {
    for (const level of [1, 6]) {
      const read = decodeCheckpoint(await encodeCheckpoint(parts(n), level));
      assert.ok(read.ok, `${n} parts, level ${level}: ${read.ok ? '' : read.reason}`);
      assert.deepEqual([...read.parts], parts(n));
    }
  }
});

test('a damaged line is skipped and counted, the rest restored; a file that is not gzip says why; no file is undefined', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.json.gz');
  writeFileSync(file, gzipSync('{"v":1}\n{"i":1}\n{"i":2,"sta\n{"i":3}\n'));
  const read = readCheckpoint(file);
  assert.ok(read?.ok);
  assert.deepEqual([...read.parts], [{ v: 1 }, { i: 1 }, { i: 3 }]);
  assert.equal(read.badLines(), 1);
  writeFileSync(file, 'not gzip');
  const broken = readCheckpoint(file);
  assert.equal(broken?.ok, false);
  assert.match(broken.ok ? '' : broken.reason, /header/i);
  assert.equal(readCheckpoint(join(dir, 'none.json.gz')), undefined);
});

test('a checkpoint that cannot be written (its temporary path is a directory) rejects without crashing or hanging', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'c.json.gz.tmp'));
  await assert.rejects(writeCheckpoint(join(dir, 'c.json.gz'), parts(5000)));
});
