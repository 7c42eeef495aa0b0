import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MqttPacketSizeGuard, UnauthenticatedBudget } from './mqtt-connection-guard.js';

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

const CONNECT = 0x10;
const PUBLISH = 0x30;
const PINGREQ = 0xc0;

test('packets up to the limit pass, in any split across reads', () => {
  // 1 type byte + 2 length bytes + 997 = 1000 bytes: exactly the limit.
  const stream = Buffer.concat([packet(PUBLISH, 997), packet(PINGREQ, 0), packet(PUBLISH, 10), packet(PUBLISH, 997)]);
  assert.equal(new MqttPacketSizeGuard(1000).check(stream), undefined, 'all at once');
  const byteByByte = new MqttPacketSizeGuard(1000);
  for (let i = 0; i < stream.length; i++)
    assert.equal(byteByByte.check(stream.subarray(i, i + 1)), undefined, `byte ${i}`);
  const odd = new MqttPacketSizeGuard(1000);
  for (let i = 0; i < stream.length; i += 7) assert.equal(odd.check(stream.subarray(i, i + 7)), undefined);
});

test('a packet one byte over the limit is refused at its header, whatever came before it', () => {
  const guard = new MqttPacketSizeGuard(1000);
  assert.equal(guard.check(packet(PUBLISH, 500)), undefined);
  // Only the fixed header of the big packet has arrived: that is enough to refuse it.
  assert.deepEqual(guard.check(packet(PUBLISH, 998).subarray(0, 3)), {
    kind: 'packet',
    reason: 'packet of 1001 bytes, over the limit of 1000',
  });
});

test('a header declaring 256 MB is refused when its length bytes arrive one by one', () => {
  const guard = new MqttPacketSizeGuard(8 * 1024 * 1024);
  const header = Buffer.from([PUBLISH, 0xff, 0xff, 0xff, 0x7f]);
  for (let i = 0; i < 4; i++) assert.equal(guard.check(header.subarray(i, i + 1)), undefined);
  assert.equal(guard.check(header.subarray(4))?.reason, 'packet of 268435460 bytes, over the limit of 8388608');
});

test('a remaining length of more than 4 bytes is malformed', () => {
  assert.match(
    new MqttPacketSizeGuard(1 << 30).check(Buffer.from([PUBLISH, 0x80, 0x80, 0x80, 0x80, 0x01]))?.reason ?? '',
    /malformed/,
  );
});

const beforeLogin = (budgetBytes = 1 << 20) => ({
  maxConnectBytes: 8192,
  budget: new UnauthenticatedBudget(budgetBytes),
});

test('before login, a CONNECT over maxConnectBytes is refused at its header, though under the packet limit', () => {
  const guard = new MqttPacketSizeGuard(8 * 1024 * 1024, beforeLogin());
  // 1 type byte + 2 length bytes + 8189 = 8192 bytes: exactly the limit passes.
  assert.equal(guard.check(packet(CONNECT, 8189)), undefined);
  const big = new MqttPacketSizeGuard(8 * 1024 * 1024, beforeLogin());
  assert.deepEqual(big.check(packet(CONNECT, 8 * 1024 * 1024 - 5).subarray(0, 5)), {
    kind: 'connect',
    reason: 'CONNECT of 8388608 bytes, over the limit of 8192 before login',
  });
});

test('before login, the first packet must be a CONNECT (MQTT-3.1.0-1)', () => {
  assert.deepEqual(new MqttPacketSizeGuard(1 << 20, beforeLogin()).check(packet(PUBLISH, 10)), {
    kind: 'connect',
    reason: 'the first packet must be a CONNECT (MQTT-3.1.0-1), not one of type 3',
  });
  // Packets pipelined after the CONNECT, before the login is accepted, may be as large as the packet limit.
  assert.equal(
    new MqttPacketSizeGuard(1 << 20, beforeLogin()).check(
      Buffer.concat([packet(CONNECT, 100), packet(PUBLISH, 100_000)]),
    ),
    undefined,
  );
});

test('the bytes of connections not logged in share one budget, given back at login or close', () => {
  const budget = new UnauthenticatedBudget(10_000);
  const limits = { maxConnectBytes: 8192, budget };
  const a = new MqttPacketSizeGuard(1 << 20, limits);
  const b = new MqttPacketSizeGuard(1 << 20, limits);
  const c = new MqttPacketSizeGuard(1 << 20, limits);
  assert.equal(a.check(packet(CONNECT, 7000).subarray(0, 6000)), undefined);
  assert.equal(b.check(packet(CONNECT, 7000).subarray(0, 4000)), undefined);
  assert.equal(budget.bytes, 10_000);
  assert.deepEqual(c.check(packet(CONNECT, 7000).subarray(0, 1)), {
    kind: 'budget',
    reason: 'clients not logged in hold 10000 bytes; 1 more would pass the budget of 10000',
  });
  a.loggedIn();
  assert.equal(budget.bytes, 4_000);
  // Logged in: a's later bytes are not counted, and its packets may be as large as the packet limit.
  assert.equal(a.check(Buffer.concat([packet(CONNECT, 7000).subarray(6000), packet(PUBLISH, 100_000)])), undefined);
  assert.equal(budget.bytes, 4_000);
  b.release();
  assert.equal(budget.bytes, 0);
});
