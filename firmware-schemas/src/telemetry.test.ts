import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeTelemetry, TelemetrySchema, validateTelemetry } from './telemetry.js';

const valid = [
  {
    name: 'full message',
    input: '{"device":"th-0042","ts":1700000000123,"seq":42,"values":{"temperature":21.5,"humidity":40.2}}',
  },
  { name: 'device without clock or counter', input: '{"device":"th-1","values":{"temperature":-3}}' },
  { name: 'device id with comma, space and equals', input: '{"device":"a b,c=d","values":{"x":1}}' },
  { name: 'unknown top-level keys are ignored', input: '{"device":"d","fw":"1.2","values":{"x":1}}' },
];

const invalid: Array<{ name: string; input: string; code: string; says: RegExp }> = [
  { name: 'not JSON', input: '{"device":', code: 'bad_json', says: /not JSON/ },
  { name: 'array', input: '[1,2]', code: 'schema', says: /expected object/ },
  { name: 'missing device', input: '{"values":{"x":1}}', code: 'schema', says: /device/ },
  { name: 'newline in device id', input: '{"device":"a\\nb","values":{"x":1}}', code: 'bad_id', says: /U\+000A/ },
  { name: 'NUL in device id', input: '{"device":"a\\u0000b","values":{"x":1}}', code: 'bad_id', says: /U\+0000/ },
  {
    name: 'topic wildcard in device id',
    input: '{"device":"a/#","values":{"x":1}}',
    code: 'bad_id',
    says: /forbidden character/,
  },
  {
    name: 'device id too long',
    input: JSON.stringify({ device: 'x'.repeat(65), values: { x: 1 } }),
    code: 'bad_id',
    says: /65 characters/,
  },
  {
    name: 'a value too large to aggregate',
    input: '{"device":"d","values":{"x":1e200}}',
    code: 'schema',
    says: /values\.x: readings beyond/,
  },
  {
    name: 'value is a string',
    input: '{"device":"d","values":{"temperature":"hot"}}',
    code: 'schema',
    says: /values\.temperature.*expected number/,
  },
  { name: 'no values', input: '{"device":"d","values":{}}', code: 'schema', says: /at least one reading/ },
  { name: 'bad metric name', input: '{"device":"d","values":{"1x":1}}', code: 'schema', says: /metric name/ },
  {
    name: 'reserved metric name',
    input: '{"device":"d","values":{"anomaly":1}}',
    code: 'schema',
    says: /not "anomaly"/,
  },
  {
    name: 'timestamp in seconds',
    input: '{"device":"d","ts":1700000000,"values":{"x":1}}',
    code: 'schema',
    says: /milliseconds since the epoch/,
  },
  { name: 'negative seq', input: '{"device":"d","seq":-1,"values":{"x":1}}', code: 'schema', says: /seq/ },
  {
    name: 'fractional timestamp',
    input: '{"device":"d","ts":1700000000123.5,"values":{"x":1}}',
    code: 'schema',
    says: /ts/,
  },
];

for (const c of valid) {
  test(`telemetry accepts: ${c.name}`, () => {
    const r = decodeTelemetry(c.input);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
  });
}

for (const c of invalid) {
  test(`telemetry rejects: ${c.name}`, () => {
    const r = decodeTelemetry(c.input);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, c.code);
    assert.match(r.error.message, c.says);
  });
}

test('a metric named like an Object method is a reading like any other, on both decoder paths', () => {
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];
  const text = JSON.stringify({ device: 'p', values: Object.fromEntries(names.map((n, i) => [n, i])) });
  // A Buffer takes the byte scanner; a string the general path (JSON.parse and the schema).
  for (const payload of [Buffer.from(text), text]) {
    const r = decodeTelemetry(payload);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(
      Object.getPrototypeOf(Object.getPrototypeOf(r.value.values)),
      null,
      'no Object.prototype behind the readings',
    );
    assert.deepEqual(
      Object.entries(r.value.values),
      names.map((n, i) => [n, i]),
    );
    assert.equal(r.value.values.isPrototypeOf, undefined, 'a name the message did not hold finds nothing');
  }
  for (const payload of [
    Buffer.from('{"device":"p","values":{"__proto__":1}}'),
    '{"device":"p","values":{"__proto__":1}}',
  ]) {
    const r = decodeTelemetry(payload);
    assert.equal(r.ok, false, '__proto__ is no metric name');
    if (!r.ok) assert.match(r.error.message, /metric name/);
  }
});

test('telemetry rejects an oversized payload before parsing it', () => {
  const r = decodeTelemetry(JSON.stringify({ device: 'd', values: { x: 1 }, pad: 'x'.repeat(5000) }), 4096);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.code, 'too_large');
});

test('the hand-written fast path agrees with the zod schema on arbitrary input', () => {
  const device = fc.oneof(fc.string({ maxLength: 70 }), fc.constant('th-1'), fc.integer());
  const metric = fc.oneof(fc.constantFrom('temperature', 'x', '1bad', 'a b', ''), fc.string({ maxLength: 5 }));
  const value = fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 3 }), fc.constant(null));
  const message = fc.record(
    {
      device,
      ts: fc.oneof(fc.integer({ min: 0, max: 8e12 }), fc.double(), fc.constant(1_700_000_000_123)),
      seq: fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.double()),
      values: fc.dictionary(metric, value, { maxKeys: 4 }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(message, (m) => {
      // JSON round trip: the agent only ever sees parsed JSON (no NaN, no -0 distinction).
      const parsed = JSON.parse(JSON.stringify(m)) as unknown;
      assert.equal(validateTelemetry(parsed).ok, TelemetrySchema.safeParse(parsed).success);
    }),
    { numRuns: 2000 },
  );
});
