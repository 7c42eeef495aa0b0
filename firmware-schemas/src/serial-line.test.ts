import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readingsOf as readings } from './readings.js';
import { decodeSerialLine, encodeSerialLine, xorChecksum } from './serial-line.js';

test('checksum is the XOR of the bytes between $ and *, as in NMEA', () => {
  // The classic NMEA example: $GPGLL,5057.970,N,00146.110,E,142451,A*27
  assert.equal(xorChecksum('GPGLL,5057.970,N,00146.110,E,142451,A'), 0x27);
});

test('the checksum of a device id beyond ASCII is the XOR of its UTF-8 bytes, as firmware computes it over what it sends', () => {
  // "café-1" is 63 61 66 c3 a9 2d 31 on the wire: XOR 0x12. Its UTF-16 code units gave 0x91 instead.
  assert.equal(xorChecksum('café-1'), 0x12);
  const body = 'TRB,café-1,,,temperature=21.5';
  const bytes = Buffer.from(body);
  let x = 0;
  for (const b of bytes) x ^= b;
  const line = `$${body}*${x.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
  assert.deepEqual(decodeSerialLine(line), {
    ok: true,
    value: { device: 'café-1', values: readings({ temperature: 21.5 }) },
  });
});

test('a line encodes and decodes back to the same reading', () => {
  const t = { device: 'th-0042', seq: 42, ts: 1_700_000_000_123, values: { temperature: 21.5, humidity: 40.2 } };
  const line = encodeSerialLine(t);
  assert.match(line, /^\$TRB,th-0042,42,1700000000123,temperature=21\.5,humidity=40\.2\*[0-9A-F]{2}\r\n$/);
  const r = decodeSerialLine(line);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { ...t, values: readings(t.values) });
});

test('seq and ts may be empty', () => {
  const r = decodeSerialLine(encodeSerialLine({ device: 'd1', values: { x: -1.5e-3 } }));
  assert.ok(r.ok);
  assert.deepEqual(r.value, { device: 'd1', values: readings({ x: -0.0015 }) });
});

test('a metric named like an Object method is a reading like any other', () => {
  const r = decodeSerialLine(
    encodeSerialLine({ device: 'p', values: { constructor: 1, toString: 2, valueOf: 3, hasOwnProperty: 4 } }),
  );
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(r.value.values, readings({ constructor: 1, toString: 2, valueOf: 3, hasOwnProperty: 4 }));
  assert.equal(r.value.values.isPrototypeOf, undefined, 'a name the line did not hold finds nothing');
});

const withChecksum = (body: string) => `$${body}*${xorChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;

const invalid: Array<{ name: string; line: string; code: string; says: RegExp }> = [
  { name: 'bad checksum', line: '$TRB,d1,1,,x=1*00', code: 'checksum', says: /checksum is 00/ },
  {
    name: 'one flipped byte',
    line: withChecksum('TRB,d1,1,,x=1').replace('x=1', 'x=2'),
    code: 'checksum',
    says: /checksum/,
  },
  { name: 'truncated line', line: '$TRB,d1,1,,x=1', code: 'framing', says: /truncated/ },
  { name: 'garbage before $', line: 'zz$TRB,d1,1,,x=1*00', code: 'framing', says: /start with "\$"/ },
  { name: 'other talker', line: withChecksum('GPGLL,1,2,3,x=1'), code: 'framing', says: /expected "\$TRB"/ },
  { name: 'no readings', line: withChecksum('TRB,d1,1,'), code: 'schema', says: /at least one metric=value/ },
  { name: 'value not a number', line: withChecksum('TRB,d1,1,,x=abc'), code: 'schema', says: /not a number/ },
  { name: 'field without =', line: withChecksum('TRB,d1,1,,xyz'), code: 'schema', says: /metric=value/ },
  { name: 'seq not an integer', line: withChecksum('TRB,d1,1.5,,x=1'), code: 'schema', says: /seq/ },
  { name: 'ts in seconds', line: withChecksum('TRB,d1,1,1700000000,x=1'), code: 'schema', says: /ts/ },
  {
    name: 'control character in device id',
    line: withChecksum('TRB,d\u00071,1,,x=1'),
    code: 'bad_id',
    says: /U\+0007/,
  },
  { name: 'duplicate metric', line: withChecksum('TRB,d1,1,,x=1,x=2'), code: 'schema', says: /twice/ },
  {
    name: 'over-long line',
    line: withChecksum(`TRB,d1,1,,${'x=1,'.repeat(200)}x=1`),
    code: 'framing',
    says: /at most 512/,
  },
];

for (const c of invalid) {
  test(`serial line rejects: ${c.name}`, () => {
    const r = decodeSerialLine(c.line);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, c.code);
    assert.match(r.error.message, c.says);
  });
}
