import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WindowResultSchema } from './batch.js';
import { fastWindow } from './window-fast.js';

/**
 * The fast path may only answer for windows the schema accepts, with exactly the schema's output
 * (deepStrictEqual: -0 and 0 differ, key sets must match); everything else is the schema's to decide.
 */
function agrees(input: unknown): boolean {
  const fast = fastWindow(input);
  const schema = WindowResultSchema.safeParse(input);
  if (fast === undefined) return true;
  assert.ok(
    schema.success,
    `fast path accepted what the schema refuses: ${JSON.stringify(input)}: ${schema.error?.message}`,
  );
  assert.deepStrictEqual(fast, schema.data, `input ${JSON.stringify(input)}`);
  return true;
}

const T0 = 1_700_000_000_000;
const valid = {
  device: 'th-0042',
  metric: 'temperature',
  start: T0,
  end: T0 + 60_000,
  count: 60,
  sum: 1201.5,
  min: 19.8,
  max: 20.2,
  mean: 20.025,
  m2: 0.51,
  first: 20.0,
  last: 20.2,
  firstTs: T0,
  lastTs: T0 + 59_999,
  rev: 0,
  quantiles: { p50: 20, p90: 20.1, p99: 20.2 },
};

/** Odd values for any field: wrong types, edges of every range, values JSON cannot carry (CBOR can). */
const oddValue = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    true,
    '',
    '20',
    [],
    {},
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    -1,
    1,
    0.5,
    2 ** 53,
    -(2 ** 53),
    946_684_799_999,
    946_684_800_000,
    7_258_118_400_000,
    7_258_118_400_001,
  ),
  fc.double(),
  fc.integer({ min: -10, max: 10 }),
  fc.integer({ min: 946_684_700_000, max: 7_258_118_500_000 }),
  fc.string({ maxLength: 70, unit: 'binary' }),
);

const deviceText = fc.oneof(
  fc.stringMatching(/^[a-z]{1,4}-[0-9]{1,5}$/),
  fc.constantFrom(
    'a b,c=d',
    'x'.repeat(64),
    'x'.repeat(65),
    '',
    'a/b',
    'a+b',
    'a#b',
    'a\\b',
    'a\nb',
    'café',
    '\u00ff',
    '\u0100',
    '\u{1f600}',
    'a\u007fb',
    'a\u009fb',
    'a\u00a0b',
    '\ud800',
    '\udc00x',
  ),
  fc.string({ maxLength: 70, unit: 'binary' }),
  fc.string({ maxLength: 70, unit: 'grapheme-ascii' }),
);

const metricText = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z_0-9]{0,8}$/),
  fc.constantFrom(
    'anomaly',
    'agent_stats',
    'anomalyx',
    'Anomaly',
    '__proto__',
    'constructor',
    '1x',
    '_x',
    'a b',
    '',
    'a'.repeat(64),
    'a'.repeat(65),
    'hé',
    'x-y',
  ),
  fc.string({ maxLength: 70, unit: 'grapheme-ascii' }),
);

const fields = Object.keys(valid).concat(['outOfRange', 'extra', '__proto__']);
const oddCounts = fc.constantFrom(0, -0, 1, -1, 0.5, '0', null);

/** A window of out-of-range readings only, as agents send it (count 0, no value statistics). */
const outOfRangeOnly = { device: 'co2-7', metric: 'co2', start: T0, end: T0 + 60_000, count: 0, rev: 0, outOfRange: 1 };

/** A valid window (either shape) with some fields replaced by odd values or removed, and maybe an odd quantiles object. */
const window = fc
  .record({
    base: fc.constantFrom<Record<string, unknown>>(valid, outOfRangeOnly),
    device: deviceText,
    metric: metricText,
    changes: fc.array(fc.tuple(fc.constantFrom(...fields), oddValue), { maxLength: 3 }),
    drop: fc.array(fc.constantFrom(...fields), { maxLength: 2 }),
    quantiles: fc.option(
      fc.oneof(
        fc.record({ p50: oddValue, p90: oddValue, p99: oddValue }),
        fc.record({ p50: fc.double(), p90: fc.double(), p99: fc.double(), more: fc.integer() }),
        oddValue,
      ),
    ),
    outOfRange: fc.option(fc.oneof(fc.integer({ min: 0, max: 100 }), oddValue)),
  })
  .map(({ base, device, metric, changes, drop, quantiles, outOfRange }) => {
    const w: Record<string, unknown> = { ...base, device, metric };
    if (quantiles !== null) w.quantiles = quantiles;
    if (outOfRange !== null) w.outOfRange = outOfRange;
    for (const [k, v] of changes)
      Object.defineProperty(w, k, { value: v, enumerable: true, writable: true, configurable: true });
    for (const k of drop) delete w[k];
    return w;
  });

test('fast window path: whatever it answers is what the schema answers', () => {
  fc.assert(fc.property(window, agrees), { numRuns: 20_000 });
});

test('fast window path: a window of out-of-range readings only (count 0) agrees with the schema, whatever else it carries', () => {
  const counted = fc
    .record({
      count: oddCounts,
      outOfRange: fc.oneof(fc.integer({ min: -1, max: 3 }), oddValue),
      extra: fc.option(oddValue),
    })
    .map(({ count, outOfRange, extra }) => ({
      ...outOfRangeOnly,
      count,
      outOfRange,
      ...(extra === null ? {} : { mean: extra }),
    }));
  fc.assert(fc.property(counted, agrees), { numRuns: 5_000 });
  // Value statistics sent with count 0 describe no reading: dropped, as unknown keys are.
  assert.deepStrictEqual(fastWindow({ ...valid, count: 0, outOfRange: 2 }), {
    ...outOfRangeOnly,
    device: 'th-0042',
    metric: 'temperature',
    outOfRange: 2,
  });
  assert.equal(
    WindowResultSchema.safeParse({ ...outOfRangeOnly, outOfRange: 0 }).success,
    false,
    'count 0 needs a reading out of range',
  );
  assert.equal(WindowResultSchema.safeParse({ ...outOfRangeOnly, outOfRange: undefined }).success, false);
});

test('fast window path: a window as agents send it is kept as it is, not copied; one with more keys or without rev is copied with the schema’s keys', () => {
  const sent = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
  assert.equal(fastWindow(sent), sent);
  const { quantiles, ...bare } = sent;
  const sentBare = JSON.parse(JSON.stringify({ ...bare, outOfRange: 2 })) as Record<string, unknown>;
  assert.equal(fastWindow(sentBare), sentBare);
  for (const other of [
    { ...sent, extra: 1 },
    { ...sent, quantiles: { ...(quantiles as object), p75: 1 } },
    { ...sent, rev: undefined },
    JSON.parse(`{"__proto__": 1, ${JSON.stringify(sent).slice(1)}`) as Record<string, unknown>,
  ]) {
    const w = fastWindow(other);
    assert.notEqual(w, other);
    assert.deepStrictEqual(w, WindowResultSchema.parse(other));
  }
});

test('fast window path: not a window at all', () => {
  for (const x of [null, undefined, 1, 'w', [], [valid], new Date()]) assert.equal(fastWindow(x), undefined);
});

test('fast window path: answers for the windows agents send (or it speeds nothing up)', () => {
  const { rev, quantiles, ...bare } = valid;
  const windows = [
    valid,
    { ...valid, rev: undefined },
    { ...bare, outOfRange: 3 },
    JSON.parse(JSON.stringify({ ...valid, device: 'a b,c=dé', metric: 'co2_ppm' })) as unknown,
    outOfRangeOnly,
    { ...outOfRangeOnly, rev: undefined, outOfRange: 12 },
  ];
  for (const w of windows) {
    assert.notEqual(fastWindow(w), undefined, JSON.stringify(w));
    agrees(w);
  }
  assert.deepStrictEqual(fastWindow({ ...bare, extra: 1 }), { ...bare, rev: 0 });
  void rev;
  void quantiles;
});
