import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeAck,
  decodeBatch,
  decodeBatchTolerant,
  decodeTelemetry,
  validateBatch,
  validateTelemetry,
  type Result,
} from '@tributary/firmware-schemas';
import fc from 'fast-check';
import { fuzzProperty, fuzzTimeout, type FuzzBounds } from '../harness/fuzz.js';

const CODES = new Set(['too_large', 'bad_json', 'schema', 'framing', 'checksum', 'bad_id', 'version']);
const BOUNDS: FuzzBounds = { runs: 3_000, budgetMs: 4_000 };

/** A decoder's answer: a value, or an error with a known code and a message. Never a throw. */
function typed<T>(r: Result<T>): T | undefined {
  if (r.ok) return r.value;
  assert.ok(CODES.has(r.error.code), `unknown error code ${r.error.code}`);
  assert.equal(typeof r.error.message, 'string');
  return undefined;
}

/** JSON as hostile senders write it: any value, prototype keys, numbers no double holds, deep nesting. */
const hostileJson = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { ['__proto__']: { polluted: 1 } },
      { constructor: { prototype: { x: 1 } } },
      [],
      null,
      Number.POSITIVE_INFINITY,
      -0,
      'x'.repeat(10_000),
    ),
  },
);
const deepNesting = fc.integer({ min: 1_000, max: 50_000 }).map((n) => `${'['.repeat(n)}1${']'.repeat(n)}`);

/** Text a decoder may be handed: random bytes, random JSON, JSON cut short, deep nesting. */
const payload = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 3, arbitrary: hostileJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  {
    weight: 1,
    arbitrary: fc.tuple(hostileJson, fc.nat()).map(([v, cut]) => {
      const s = JSON.stringify(v) ?? '';
      return Buffer.from(s.slice(0, cut % (s.length + 1)));
    }),
  },
  { weight: 1, arbitrary: deepNesting.map((s) => Buffer.from(s)) },
);

const now = Date.now();
const validWindow = {
  device: 'th-1',
  metric: 'temperature',
  start: now - 60_000,
  end: now,
  count: 3,
  sum: 63,
  min: 20,
  max: 22,
  mean: 21,
  m2: 2,
  first: 20,
  last: 22,
  firstTs: now - 50_000,
  lastTs: now - 1_000,
};
const validBatch = {
  v: 1,
  agent: 'gw-1',
  epoch: 1,
  seq: 7,
  sentAt: now,
  windows: [validWindow, { ...validWindow, device: 'th-2' }],
  counters: { readings_accepted: 6 },
};
const validTelemetry = { device: 'th-1', ts: now, seq: 1, values: { temperature: 21.5 } };

/** A valid object with one field (at any depth, maybe inside an array) replaced by any JSON value, or removed. */
function mutated(valid: unknown): fc.Arbitrary<unknown> {
  const paths: Array<Array<string | number>> = [];
  const walk = (v: unknown, path: Array<string | number>): void => {
    paths.push(path);
    if (typeof v === 'object' && v !== null)
      for (const [k, c] of Object.entries(v)) walk(c, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  walk(valid, []);
  return fc
    .tuple(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.option(hostileJson, { nil: undefined }))
    .map(([path, value]) => {
      const copy = structuredClone(valid) as Record<string | number, unknown>;
      let node = copy;
      for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
      const last = path.at(-1)!;
      if (value === undefined) delete node[last];
      else node[last] = value;
      return copy;
    });
}

test('fuzz: telemetry payloads — bytes, hostile JSON, mutations of valid messages: a value or a typed error, never a throw; a value passes the schema again', {
  timeout: fuzzTimeout(BOUNDS),
}, async (t) => {
  const input = fc.oneof(
    payload,
    mutated(validTelemetry).map((v) => Buffer.from(JSON.stringify(v))),
  );
  await fuzzProperty(t, 'decodeTelemetry', BOUNDS, input, (bytes) => {
    // The byte scanner (a Buffer) and the general path (a string) must agree.
    const fast = typed(decodeTelemetry(bytes, 1 << 20));
    const general = typed(decodeTelemetry(bytes.toString('utf8'), 1 << 20));
    assert.equal(fast === undefined, general === undefined, 'both paths accept or both refuse');
    if (fast !== undefined)
      assert.ok(validateTelemetry(JSON.parse(JSON.stringify(fast))).ok, 'what was accepted is valid telemetry');
  });
});

test('fuzz: batch payloads — bytes, hostile JSON, mutations of valid batches: the tolerant decoder keeps every valid window and names each one it skips; never a throw', {
  timeout: fuzzTimeout(BOUNDS),
}, async (t) => {
  const input = fc.oneof(payload, {
    weight: 3,
    arbitrary: mutated(validBatch).map((v) => Buffer.from(JSON.stringify(v))),
  });
  await fuzzProperty(t, 'decodeBatchTolerant', BOUNDS, input, (bytes) => {
    const strict = typed(decodeBatch(bytes));
    const tolerant = typed(decodeBatchTolerant(bytes));
    if (strict !== undefined) {
      assert.ok(tolerant !== undefined, 'a batch the strict decoder takes, the tolerant one takes');
      assert.equal(tolerant.skipped.length, 0);
      assert.equal(tolerant.batch.windows.length, strict.windows.length);
    }
    if (tolerant === undefined) return;
    const sent = (JSON.parse(bytes.toString('utf8')) as { windows: unknown[] }).windows;
    assert.equal(
      tolerant.batch.windows.length + tolerant.skipped.length,
      sent.length,
      'each window is kept or skipped with a reason',
    );
    assert.ok(validateBatch(JSON.parse(JSON.stringify(tolerant.batch))).ok, 'what was kept is a valid batch');
  });
});

test('fuzz: acks — bytes, hostile JSON, mutations of valid acks: a value or a typed error, never a throw', {
  timeout: fuzzTimeout(BOUNDS),
}, async (t) => {
  const input = fc.oneof(
    payload,
    mutated({ v: 1, agent: 'gw-1', epoch: 1, seq: 3, status: 'ok' }).map((v) => Buffer.from(JSON.stringify(v))),
  );
  await fuzzProperty(t, 'decodeAck', BOUNDS, input, (bytes) => void typed(decodeAck(bytes)));
});
