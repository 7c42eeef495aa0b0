import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32 } from './crc32.js';

// The check value of CRC-32/ISO-HDLC in the catalogue of parametrised CRC algorithms.
test('crc32 of "123456789" is the catalogue check value 0xCBF43926', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('crc32 continues an earlier checksum across split input', () => {
  const bytes = randomBytes(1000);
  assert.equal(crc32(bytes.subarray(300), crc32(bytes.subarray(0, 300))), crc32(bytes));
});

// zlib.crc32 exists from Node 20.15 / 22.2: compared wherever it does (not on the 20.11 floor).
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
test('crc32 equals zlib.crc32 on random input of every length up to 300 bytes and on 1 MiB', {
  skip: zlibCrc32 === undefined && `zlib.crc32 is not in Node ${process.version}`,
}, () => {
  for (let length = 0; length <= 300; length++) {
    const bytes = randomBytes(length);
    assert.equal(crc32(bytes), zlibCrc32!(bytes), `length ${length}`);
  }
  const big = randomBytes(1 << 20);
  assert.equal(crc32(big), zlibCrc32!(big));
  assert.equal(crc32(big.subarray(5), 0x12345678), zlibCrc32!(big.subarray(5), 0x12345678));
});
