import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readingsOf } from './readings.js';

test('a readings object holds its readings and nothing else: no Object method, nothing added to Object.prototype', () => {
  const r = readingsOf({ constructor: 1, temperature: 2 });
  assert.equal(r.constructor, 1);
  assert.equal('toString' in r, false);
  assert.equal(r.hasOwnProperty, undefined);
  const proto = Object.prototype as { polluted?: number };
  proto.polluted = 3;
  try {
    const walked: string[] = [];
    for (const name in r) walked.push(name);
    assert.deepEqual(walked, ['constructor', 'temperature']);
    assert.equal(r.polluted, undefined);
  } finally {
    delete proto.polluted;
  }
  assert.equal(JSON.stringify(r), '{"constructor":1,"temperature":2}');
});
