import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readingsOf } from './readings.js';
import { decodeTelemetry } from './telemetry.js';
import { scanTelemetry } from './telemetry-scan.js';

/**
 * decodeTelemetry takes the byte scanner for a Buffer and always the general path (JSON.parse and
 * the schema) for a string, so decoding the same text both ways compares the two. deepStrictEqual
 * compares numbers with Object.is: -0 and 0, or two doubles one bit apart, differ.
 */
function sameBothWays(bytes: Buffer): void {
  const general = decodeTelemetry(bytes.toString('utf8'), 1 << 20);
  const fast = decodeTelemetry(bytes, 1 << 20);
  assert.deepStrictEqual(fast, general, `payload ${JSON.stringify(bytes.toString('utf8'))}`);
  // Keys in the same order too (what encodeTelemetry writes back out).
  assert.equal(JSON.stringify(fast), JSON.stringify(general));
}

/** A JSON number as firmware might print it, well-formed or not. */
const numberText = fc.oneof(
  // Readings as sensors give them: printed without an exponent, often with 16 or 17 digits (20.700000000000003).
  { weight: 4, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => JSON.stringify(x)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: 1, max: 1000 }))
      .map(([a, b]) => JSON.stringify(a / b)),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3e12 }).map(String) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.stringMatching(/^[0-9]{0,18}$/),
        fc.option(fc.stringMatching(/^[0-9]{0,20}$/)),
        fc.option(
          fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.stringMatching(/^[0-9]{0,3}$/)),
        ),
      )
      .map(
        ([sign, whole, fraction, exponent]) =>
          `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : exponent.join('')}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '1700000000123',
      '-0',
      '-0.0',
      '0.1',
      '1e100',
      '1e101',
      '-1e100',
      '9007199254740993',
      '1.7976931348623157e308',
      '5e-324',
      'null',
      '"21.5"',
      'true',
    ),
  },
);

const deviceText = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z]{1,4}-[0-9]{1,5}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'a b,c=d',
      'x'.repeat(64),
      'x'.repeat(65),
      '',
      'a/b',
      'a+b',
      'a#b',
      'a\\\\b',
      'a\\nb',
      'caf\u00e9',
      '\u{1f600}',
      'a\u007fb',
      'a\\u0041b',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 70, unit: 'binary' }).map((s) => JSON.stringify(s).slice(1, -1)) },
);

const metricText = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z_0-9]{0,8}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'anomaly',
      'agent_stats',
      'anomalyx',
      '__proto__',
      'constructor',
      'toString',
      '1x',
      'a b',
      '',
      'a'.repeat(64),
      'a'.repeat(65),
      'h\u00e9',
    ),
  },
);

/** Mostly nothing; sometimes JSON whitespace, or a character JSON does not count as whitespace. */
const space = fc.oneof(
  { weight: 40, arbitrary: fc.constant('') },
  { weight: 8, arbitrary: fc.constantFrom(' ', '\n', '\t', '\r\n  ') },
  { weight: 1, arbitrary: fc.constantFrom('\u00a0', '\f') },
);
const rarely = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

/** Telemetry-like text: keys in any order, optional and repeated, unknown keys, whitespace, mistakes. */
const payloadText = fc
  .record({
    device: fc.option(deviceText, { nil: undefined, freq: 20 }),
    ts: fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 946_684_800_000, max: 7_258_118_400_000 }).map(String) },
        { weight: 1, arbitrary: numberText },
      ),
      { nil: undefined },
    ),
    seq: fc.option(fc.oneof({ weight: 4, arbitrary: fc.nat().map(String) }, { weight: 1, arbitrary: numberText }), {
      nil: undefined,
    }),
    values: fc.option(fc.array(fc.tuple(metricText, numberText), { maxLength: 5 }), { nil: undefined, freq: 20 }),
    other: rarely(
      fc.constantFrom('"fw":"1.2"', '"device":"again"', '"ts":1700000000000', '"values":{"x":1}', '"x":[1,{"y":2}]'),
    ),
    order: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
    gaps: fc.array(space, { minLength: 8, maxLength: 8 }),
    tail: fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom('', ' \n') },
      { weight: 1, arbitrary: fc.constantFrom('x', ',', '}', '\u0000') },
    ),
  })
  .map(({ device, ts, seq, values, other, order, gaps, tail }) => {
    const g = (i: number) => gaps[i % gaps.length]!;
    const fields: string[] = [];
    if (device !== undefined) fields.push(`"device"${g(0)}:${g(1)}"${device}"`);
    if (ts !== undefined) fields.push(`"ts":${g(2)}${ts}`);
    if (seq !== undefined) fields.push(`"seq":${seq}${g(3)}`);
    if (values !== undefined)
      fields.push(`"values":${g(4)}{${values.map(([m, v]) => `"${m}":${g(5)}${v}`).join(`,${g(6)}`)}}`);
    if (other !== undefined) fields.push(other);
    const shuffled = fields.map((f, i) => [order[i]!, f] as const).sort((a, b) => a[0] - b[0]);
    return `${g(7)}{${shuffled.map(([, f]) => f).join(',')}}${tail}`;
  });

test('the byte scanner and the general decoder give the same result on arbitrary telemetry-like text', () => {
  let read = 0;
  let valid = 0;
  const runs = 20_000;
  fc.assert(
    fc.property(payloadText, (text) => {
      const bytes = Buffer.from(text, 'utf8');
      if (scanTelemetry(bytes) !== undefined) read++;
      if (decodeTelemetry(bytes).ok) valid++;
      sameBothWays(bytes);
    }),
    { numRuns: runs },
  );
  // Not vacuous: many of the generated messages are valid, and the scanner reads most of those itself.
  assert.ok(valid > runs / 10, `only ${valid} of ${runs} generated messages were valid`);
  assert.ok(read > valid / 2, `the scanner read ${read} of ${valid} valid messages`);
});

test('the byte scanner and the general decoder agree on valid messages with single bytes changed, added or removed', () => {
  const base = Buffer.from(
    '{"device":"th-0042","ts":1700000000123,"seq":42,"values":{"temperature":21.5,"humidity":40.2}}',
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete'), fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      }),
      (edits) => {
        const bytes = [...base];
        for (const [kind, at, byte] of edits) {
          const i = at % (bytes.length + 1);
          if (kind === 'set') bytes[Math.min(i, bytes.length - 1)] = byte;
          else if (kind === 'insert') bytes.splice(i, 0, byte);
          else bytes.splice(Math.min(i, bytes.length - 1), 1);
        }
        sameBothWays(Buffer.from(bytes));
      },
    ),
    { numRuns: 20_000 },
  );
});

test('the byte scanner and the general decoder agree at every edge of the grammar and the schema', () => {
  const numbers = [
    '1.',
    '1e',
    '1e+',
    '1E-0',
    '01',
    '-',
    '-01',
    '.5',
    '+1',
    '1.e5',
    '0.0',
    '-0',
    '1e100',
    '1e101',
    '-1e100',
    '-1.0000000000000001e100',
  ];
  const texts = [
    ...numbers.map((n) => `{"device":"d","values":{"x":${n}}}`),
    ...['\f', '\v', '\u00a0', '\u2028', ' \t\r\n'].map((w) => `{${w}"device":"d","values":{"x":1}}${w}`),
    ...[946_684_799_999, 946_684_800_000, 7_258_118_400_000, 7_258_118_400_001, 1_700_000_000_000.5].map(
      (ts) => `{"device":"d","ts":${ts},"values":{"x":1}}`,
    ),
    ...['0', '-0', '9007199254740991', '9007199254740992', '1e3', '-1', '1.5'].map(
      (seq) => `{"device":"d","seq":${seq},"values":{"x":1}}`,
    ),
    ...[63, 64, 65].map(
      (n) => `{"device":"d","values":{${Array.from({ length: n }, (_, i) => `"m${i}":${i}`).join(',')}}}`,
    ),
    ...['x'.repeat(64), 'x'.repeat(65), ' ', '~', 'a\u007f', 'a/b', 'a+b', 'a#b'].map(
      (d) => `{"device":"${d}","values":{"x":1}}`,
    ),
    ...['a'.repeat(64), 'a'.repeat(65), 'anomaly', 'agent_stats', 'Anomaly', '_x', 'x_', 'a-b'].map(
      (m) => `{"device":"d","values":{"${m}":1}}`,
    ),
    '{"device":"d","device":"e","values":{"x":1}}',
    '{"device":"d","values":{"x":1},"values":{"y":2}}',
    '{"device":"d","values":{"x":1,"x":2}}',
    '{"device":"d","values":{}}',
    '{"device":"d"}',
    '{"values":{"x":1}}',
    '{}',
    '[]',
    '',
    '{"device":"d","values":{"x":1}',
    '{"device":"d","values":{"x":1}}}',
    '{"device":"d","values":{"x":1}},',
    // Longer than any double needs: the general path reads it (as Infinity, then rejects it).
    `{"device":"d","values":{"x":1${'0'.repeat(300_000)}}}`,
    `{"device":"d","values":{"x":0.${'0'.repeat(300_000)}1}}`,
  ];
  for (const text of texts) sameBothWays(Buffer.from(text, 'utf8'));
});

test('the byte scanner answers for the messages firmware sends, exactly as JSON.parse reads them', () => {
  const cases = [
    '{"device":"th-0042","ts":1700000000123,"seq":42,"values":{"temperature":21.5,"humidity":40.2}}',
    '{"device":"th-1","values":{"temperature":-3}}',
    ' { "device" : "a b,c=d" , "values" : { "x" : -0.0 , "y" : 1e-7, "z": 20.700000000000003 } } \n',
    '{"values":{"co2":412.25},"seq":0,"device":"co2-7"}',
  ];
  for (const text of cases) {
    const scanned = scanTelemetry(Buffer.from(text));
    assert.notEqual(scanned, undefined, `the fast path should read ${text}`);
    const parsed = JSON.parse(text) as { values: Record<string, number> };
    assert.deepStrictEqual(scanned, { ...parsed, values: readingsOf(parsed.values) });
    assert.deepEqual(Object.keys(scanned!), Object.keys(JSON.parse(text) as object), 'keys in the order read');
  }
});

test('the byte scanner leaves what it does not read plainly to the general path', () => {
  for (const text of [
    '{"device":"caf\u00e9","values":{"x":1}}', // not ASCII
    '{"device":"a\\u0041","values":{"x":1}}', // an escape
    '{"device":"d","fw":"1.2","values":{"x":1}}', // a key firmware may add
    '{"device":"d","values":{"x":1,"x":2}}', // a repeated metric: JSON.parse keeps the last
    '{"device":"d","seq":-0,"values":{"x":1}}',
    '{"device":"d","values":{"x":1e101}}', // out of range: the schema words why
  ]) {
    assert.equal(scanTelemetry(Buffer.from(text)), undefined, text);
  }
});

test('device ids are never mixed up, past the name cache bound and through hash collisions', () => {
  // 70,000 distinct ids: more than the cache holds (so it is cleared), and enough that some share a 30-bit hash.
  for (let i = 0; i < 70_000; i++) {
    const device = `dev-${(i * 2_654_435_761) % 4_294_967_291}-${i}`;
    const r = decodeTelemetry(Buffer.from(`{"device":"${device}","values":{"m${i % 7}":${i}}}`));
    assert.ok(r.ok);
    assert.equal(r.value.device, device);
    assert.deepEqual(Object.keys(r.value.values), [`m${i % 7}`]);
  }
});
