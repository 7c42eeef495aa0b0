import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MqttPacketSizeGuard } from './mqtt-packet-limit.js';

/** A packet of type byte `type` with `bodyBytes` bytes after its fixed header. */
function packet(type: number, bodyBytes: number): Buffer {
  const length: number[] = [];
  let x = bodyBytes;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    length.push(byte);
  } while (x > 0);
  return Buffer.concat([Buffer.from([type, ...length]), Buffer.alloc(bodyBytes, 0x61)]);
}

const PUBLISH = 0x30;
const PINGREQ = 0xc0;

test('packets up to the limit pass, in any split across reads', () => {
  // 1 type byte + 2 length bytes + 997 = 1000 bytes: exactly the limit.
  const stream = Buffer.concat([packet(PUBLISH, 997), packet(PINGREQ, 0), packet(PUBLISH, 10), packet(PUBLISH, 997)]);
  assert.equal(new MqttPacketSizeGuard(1000).check(stream), undefined, 'all at once');
  const byteByByte = new MqttPacketSizeGuard(1000);
  for (let i = 0; i < stream.length; i++) assert.equal(byteByByte.check(stream.subarray(i, i + 1)), undefined, `byte ${i}`);
  const odd = new MqttPacketSizeGuard(1000);
  for (let i = 0; i < stream.length; i += 7) assert.equal(odd.check(stream.subarray(i, i + 7)), undefined);
});

test('a packet one byte over the limit is refused at its header, whatever came before it', () => {
  const guard = new MqttPacketSizeGuard(1000);
  assert.equal(guard.check(packet(PUBLISH, 500)), undefined);
  // Only the fixed header of the big packet has arrived: that is enough to refuse it.
  assert.equal(guard.check(packet(PUBLISH, 998).subarray(0, 3)), 'packet of 1001 bytes, over the limit of 1000');
});

test('a header declaring 256 MB is refused when its length bytes arrive one by one', () => {
  const guard = new MqttPacketSizeGuard(8 * 1024 * 1024);
  const header = Buffer.from([PUBLISH, 0xff, 0xff, 0xff, 0x7f]);
  for (let i = 0; i < 4; i++) assert.equal(guard.check(header.subarray(i, i + 1)), undefined);
  assert.match(guard.check(header.subarray(4)) ?? '', /^packet of 268435460 bytes, over the limit of 8388608$/);
});

test('a remaining length of more than 4 bytes is malformed', () => {
  assert.match(new MqttPacketSizeGuard(1 << 30).check(Buffer.from([PUBLISH, 0x80, 0x80, 0x80, 0x80, 0x01])) ?? '', /malformed/);
});
