import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelopeIds } from './processor.js';

test('the seq and epoch of a batch too large or too broken to parse are read from its envelope', () => {
  const huge = `{"v":1,"agent":"gw","epoch":1700000000000,"seq":42,"sentAt":1,"windows":[${'{"x":1},'.repeat(200_000)}{}],"counters":{}}`;
  assert.deepEqual(envelopeIds(Buffer.from(huge)), { seq: 42, epoch: 1_700_000_000_000 });
  assert.deepEqual(envelopeIds(Buffer.from('{"v":1,"agent":"gw","seq":7,"windows":[{"device":"x","seq":99}]')), {
    seq: 7,
    epoch: undefined,
  });
  assert.equal(
    envelopeIds(Buffer.from('{"windows":[{"seq":99}]}')),
    undefined,
    'a seq inside a window is not the envelope’s',
  );
  assert.equal(envelopeIds(Buffer.from('not json')), undefined);
});
