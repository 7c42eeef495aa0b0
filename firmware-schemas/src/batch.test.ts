import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAck } from './ack.js';
import { decodeAlert } from './alert.js';
import { decodeBatch, decodeBatchTolerant, encodeBatch, type BatchEnvelopeInput } from './batch.js';
import { decodeTelemetry } from './telemetry.js';

const window = {
  device: 'dev 1,a=b',
  metric: 'temperature',
  start: 1_700_000_000_000,
  end: 1_700_000_060_000,
  count: 3,
  sum: 63,
  min: 20,
  max: 22,
  mean: 21,
  m2: 2,
  first: 20,
  last: 22,
  firstTs: 1_700_000_000_500,
  lastTs: 1_700_000_059_000,
};
const batch: BatchEnvelopeInput = {
  v: 1,
  agent: 'gw-01',
  seq: 7,
  sentAt: 1_700_000_061_000,
  windows: [window],
  counters: { received: 3 },
};

/** Every reading of this window was out of range: count 0, how many, no value statistics. */
const outOfRangeOnly = {
  device: 'co2-7',
  metric: 'co2',
  start: window.start,
  end: window.end,
  count: 0 as const,
  outOfRange: 1,
};

test('a window of out-of-range readings only (count 0, outOfRange, no value statistics) is valid beside an ordinary one', () => {
  for (const decode of [
    decodeBatch,
    (p: string) => {
      const r = decodeBatchTolerant(p);
      return r.ok ? { ok: true as const, value: r.value.batch } : r;
    },
  ]) {
    const r = decode(encodeBatch({ ...batch, windows: [window, outOfRangeOnly] }));
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.deepStrictEqual(r.value.windows[1], { ...outOfRangeOnly, rev: 0 });
    assert.equal(r.value.windows[0]?.count, 3);
  }
});

test('a batch round-trips and gets rev 0 by default', () => {
  const r = decodeBatch(encodeBatch(batch));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.windows[0]?.rev, 0);
  assert.equal(r.value.windows[0]?.device, 'dev 1,a=b');
});

const badBatches: Array<{ name: string; change: (b: Record<string, unknown>) => void; says: RegExp }> = [
  { name: 'unknown version', change: (b) => (b.v = 2), says: /^v:/ },
  { name: 'agent id with a slash', change: (b) => (b.agent = 'a/b'), says: /agent/ },
  { name: 'negative seq', change: (b) => (b.seq = -1), says: /seq/ },
  {
    name: 'window end before start',
    change: (b) => ((b.windows as Array<Record<string, unknown>>)[0]!.end = 1_600_000_000_000),
    says: /windows\[0\]\.end/,
  },
  {
    name: 'zero count',
    change: (b) => ((b.windows as Array<Record<string, unknown>>)[0]!.count = -1),
    says: /windows\[0\]\.count/,
  },
  {
    name: 'zero count without outOfRange (a window of out-of-range readings only must say how many)',
    change: (b) => ((b.windows as Array<Record<string, unknown>>)[0]!.count = 0),
    says: /windows\[0\]\.count: .*outOfRange/,
  },
  {
    name: 'a window of out-of-range readings only with outOfRange 0',
    change: (b) => (b.windows = [{ ...outOfRangeOnly, outOfRange: 0 }]),
    says: /windows\[0\]\.outOfRange/,
  },
  {
    name: 'control character in device',
    change: (b) => ((b.windows as Array<Record<string, unknown>>)[0]!.device = 'x\ny'),
    says: /windows\[0\]\.device.*U\+000A/,
  },
  {
    name: 'min above max',
    change: (b) => ((b.windows as Array<Record<string, unknown>>)[0]!.min = 99),
    says: /min must not exceed max/,
  },
  { name: 'counter with a bad name', change: (b) => (b.counters = { 'Bad Name': 1 }), says: /counters/ },
];

for (const c of badBatches) {
  test(`batch rejects: ${c.name}`, () => {
    const copy = structuredClone(batch) as unknown as Record<string, unknown>;
    c.change(copy);
    const r = decodeBatch(JSON.stringify(copy));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, c.says);
  });
}

test('ack: valid and invalid', () => {
  assert.ok(decodeAck('{"v":1,"agent":"gw-01","seq":3,"status":"ok"}').ok);
  const bad = decodeAck('{"v":1,"agent":"gw-01","seq":3,"status":"maybe"}');
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.error.message, /status/);
});

test('alert: valid and invalid', () => {
  const alert = {
    v: 1,
    id: 'a1',
    state: 'opened',
    device: 'd',
    metric: 'x',
    detector: 'robust-zscore',
    severity: 'warning',
    score: 0.9,
    value: 3,
    openedAt: 1_700_000_000_000,
    at: 1_700_000_000_000,
    message: 'm',
  };
  assert.ok(decodeAlert(JSON.stringify(alert)).ok);
  const bad = decodeAlert(JSON.stringify({ ...alert, score: 2 }));
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.error.message, /score/);
});

test('tolerant decoding keeps the good windows of a batch with a bad one, and reports it', async () => {
  const { decodeBatchTolerant } = await import('./batch.js');
  const bad = { ...window, m2: null };
  const r = decodeBatchTolerant(JSON.stringify({ ...batch, windows: [window, bad, { ...window, device: 'other' }] }));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(
    r.value.batch.windows.map((w) => w.device),
    ['dev 1,a=b', 'other'],
  );
  assert.equal(r.value.skipped.length, 1);
  assert.match(r.value.skipped[0]!.reason, /m2/);
});

test('a batch of an unknown format version is a version error, not a rejection', async () => {
  const { decodeBatchTolerant } = await import('./batch.js');
  const r = decodeBatchTolerant(JSON.stringify({ ...batch, v: 2 }));
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.code, 'version');
});

test('a payload nested deeper than the stack is an error with its reason, never a throw (it ended the agent and failed the batch)', () => {
  // 20,000 levels: 40 KB, within a telemetry limit of 64 KiB and any batch limit.
  const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
  const inValues = `{"device":"d1","values":{"t":${deep}}}`;
  for (const [name, decode] of [
    ['telemetry', () => decodeTelemetry(deep, 1 << 20)],
    ['telemetry with deep values', () => decodeTelemetry(inValues, 1 << 20)],
    ['telemetry bytes', () => decodeTelemetry(Buffer.from(deep), 1 << 20)],
    ['batch', () => decodeBatch(deep)],
    ['batch, window by window', () => decodeBatchTolerant(deep)],
    [
      'batch with a deep window',
      () =>
        decodeBatchTolerant(`{"v":1,"agent":"gw","seq":1,"sentAt":1700000000000,"counters":{},"windows":[${deep}]}`),
    ],
  ] as const) {
    const r = decode();
    assert.equal(r.ok, name === 'batch with a deep window', name);
    if (!r.ok) assert.equal(r.error.code, 'schema', name);
  }
});
