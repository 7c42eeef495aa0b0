import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32 } from './crc32.js';

test('crc32: the standard check value, and zlib.crc32 where this Node has it', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const zlibCrc = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
  if (zlibCrc === undefined) return;
  for (let n = 0; n < 300; n += 7) {
    const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff));
    assert.equal(crc32(bytes), zlibCrc(bytes), `${n} bytes`);
  }
});
