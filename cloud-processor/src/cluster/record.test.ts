import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRecord, encodeRecord, type PartitionRecord } from './record.js';

const record: PartitionRecord = {
  v: 1,
  owner: 'p1',
  epoch: 3,
  seq: 120,
  done: 130,
  released: false,
  snapshot: { object: 'p5-e3-s120', bytes: 40_000 },
};

test('a position record round-trips, inline snapshot or object or none', () => {
  for (const snapshot of [record.snapshot, { inline: 'H4sI' }, null])
    assert.deepEqual(decodeRecord(encodeRecord({ ...record, snapshot })), { ...record, snapshot });
});

test('a damaged or foreign record is an error naming what is wrong, never a half record', () => {
  const cases: Array<[string, string]> = [
    ['{"v":1,', 'not JSON'],
    [
      '{"v":2,"owner":"p1","epoch":1,"seq":0,"done":0,"released":false,"snapshot":null}',
      'not a version 1 partition record',
    ],
    [
      '{"v":1,"owner":"p1","epoch":-1,"seq":0,"done":0,"released":false,"snapshot":null}',
      'not a version 1 partition record',
    ],
    [
      '{"v":1,"owner":"p1","epoch":1,"seq":0,"done":0,"released":false,"snapshot":{"object":7}}',
      'its snapshot reference is malformed',
    ],
    ['null', 'not a version 1 partition record'],
  ];
  for (const [text, reason] of cases) {
    const r = decodeRecord(Buffer.from(text));
    assert.ok(r instanceof Error, text);
    assert.match(r.message, new RegExp(reason), text);
  }
});
