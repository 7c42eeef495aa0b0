import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';

const parts = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ i, state: [i, i * 2] }));

test('a checkpoint of many parts round-trips', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.json.gz');
  await writeCheckpoint(file, parts(5000));
  assert.deepEqual(readCheckpoint(file), parts(5000));
});

test('a checkpoint that cannot be written (its temporary path is a directory) rejects without crashing or hanging', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'c.json.gz.tmp'));
  await assert.rejects(writeCheckpoint(join(dir, 'c.json.gz'), parts(5000)));
});
