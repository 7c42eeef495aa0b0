import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchEnvelope, WindowResult } from '@tributary/firmware-schemas';
import fc from 'fast-check';
import type { EncodedLines } from './line-bytes.js';
import { PointEncoder } from './points.js';
import { windowInput } from './window-input.js';

const window = (device: string, metric: string): WindowResult => ({
  device,
  metric,
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
  firstTs: 1_700_000_000_000,
  lastTs: 1_700_000_000_001,
  rev: 0,
});
const envelope = (windows: WindowResult[]): BatchEnvelope => ({
  v: 1,
  agent: 'gw',
  site: 'plant-a',
  epoch: 0,
  seq: 1,
  sentAt: 1_700_000_061_000,
  windows,
  counters: { readings_accepted: 9 },
});

/** Encoded lines back as strings, by where each starts. */
const linesOf = (e: EncodedLines): string[] =>
  Array.from({ length: e.length }, (_, i) => e.bytes.toString('utf8', e.starts[i], e.starts[i + 1]! - 1));

test('metrics named like Object methods are measurements like any other, and take no unit they were not given', () => {
  const encoder = new PointEncoder({ temperature: '°C' });
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'temperature'];
  const { lines, unencodable } = encoder.batch(envelope(names.map((m) => window('p', m))), []);
  assert.deepEqual(unencodable, []);
  assert.deepEqual(
    lines.slice(0, names.length).map((l) => l.split(/(?<!\\) /)[0]),
    [
      ...names.slice(0, -1).map((m) => `${m},agent=gw,device=p,site=plant-a`),
      'temperature,agent=gw,device=p,site=plant-a,unit=°C',
    ],
  );
  assert.match(lines.at(-1)!, /^agent_stats,agent=gw,site=plant-a readings_accepted=9i /);
});

test('one encoder, windows of several ends, agents and metrics in turn: each line as the LineBuilder writes it', () => {
  const encoder = new PointEncoder({ humidity: '%' });
  const reference = new PointEncoder({ humidity: '%' });
  const at = (w: WindowResult, end: number): WindowResult => ({ ...w, end, lastTs: end - 1 });
  const batches = [
    envelope([at(window('a', 'temperature'), 1_700_000_060_000), at(window('b', 'humidity'), 1_700_000_060_000)]),
    { ...envelope([at(window('a', 'temperature'), 1_700_000_120_000)]), agent: 'gw2', site: undefined },
    envelope([at(window('a', 'humidity'), 1_700_000_060_000), at(window('c d', 'temperature'), 1_700_000_180_000)]),
  ];
  for (const batch of batches)
    for (const w of batch.windows) assert.equal(encoder.window(batch, w), reference.windowByBuilder(batch, w));
});

test('a point that throws while encoded is set aside with its reason and whose it is; the others are encoded', () => {
  // An empty metric name cannot pass the batch schema; here it stands for any point the encoder cannot carry.
  const bad = window('dev 2', '');
  const { lines, unencodable } = new PointEncoder().batch(
    envelope([window('dev 1', 'temperature'), bad, window('dev 3', 'humidity')]),
    [],
  );
  assert.deepEqual(
    lines.map((l) => l.split(/(?<!\\) /)[0]),
    [
      'temperature,agent=gw,device=dev\\ 1,site=plant-a',
      'humidity,agent=gw,device=dev\\ 3,site=plant-a',
      'agent_stats,agent=gw,site=plant-a',
    ],
  );
  assert.equal(unencodable.length, 1);
  assert.match(unencodable[0]!.reason, /^cannot encode as line protocol: .*must not be empty/);
  assert.equal(unencodable[0]!.series, 'agent gw device "dev 2" metric ');
  assert.deepEqual(unencodable[0]!.point, { measurement: '', agent: 'gw', site: 'plant-a', window: bad });
});

test('a batch whose encoding throws past its points (a bug) leaves none of its lines to the next batch', () => {
  const encoder = new PointEncoder();
  // A metric that is not a string cannot even be named in the set-aside record: the batch throws.
  const broken = { ...window('from-batch-1', 'x'), metric: Symbol('m') } as unknown as WindowResult;
  assert.throws(() => encoder.batchBytes(envelope([window('from-batch-1', 'temperature'), broken])));
  const { lines } = encoder.batchBytes(envelope([window('from-batch-2', 'temperature')]));
  assert.deepEqual(
    linesOf(lines).map((l) => l.split(' ')[0]),
    ['temperature,agent=gw,device=from-batch-2,site=plant-a', 'agent_stats,agent=gw,site=plant-a'],
  );
});

test('a window is written in one piece exactly as the LineBuilder writes it (its length included; corrections by the builder)', () => {
  const names = fc.oneof(
    fc.constantFrom('dev 1', 'a,b=c', '#x', 'x\\', '\\', 'é', 'a\nb', 'temperature', '', '\ud800', 'x\udfff', '😀 =,'),
    fc.string({ maxLength: 12 }),
    // Any UTF-16 code unit sequence, lone surrogates among them: multi-byte UTF-8 both ways.
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  // Decimals of a few fraction digits (what agents send) take LineBytes' own digits; the rest String(x).
  const decimal = fc
    .tuple(fc.integer({ min: -(2 ** 53), max: 2 ** 53 }), fc.integer({ min: 0, max: 8 }))
    .map(([m, k]) => m / 10 ** k);
  const number = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1e21, 5e-324, NaN, Infinity), fc.integer(), decimal);
  const arbitrary = fc.record({
    device: names,
    metric: names,
    agent: names,
    site: fc.option(names, { nil: undefined }),
    unit: fc.option(names, { nil: undefined }),
    numbers: fc.array(number, { minLength: 13, maxLength: 13 }),
    count: fc.oneof(fc.integer({ min: 1, max: 1e6 }), number),
    outOfRange: fc.option(fc.oneof(fc.integer({ min: 0, max: 99 }), number), { nil: undefined }),
    quantiles: fc.boolean(),
    rev: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
    judged: fc.boolean(),
  });
  fc.assert(
    fc.property(arbitrary, (x) => {
      const [start, end, sum, min, max, mean, m2, first, last, p50, p90, p99] = x.numbers as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const w: WindowResult = {
        device: x.device,
        metric: x.metric,
        start,
        end,
        count: x.count,
        sum,
        min,
        max,
        mean,
        m2,
        first,
        last,
        firstTs: start,
        lastTs: end,
        rev: x.rev,
        ...(x.quantiles && { quantiles: { p50, p90, p99 } }),
        ...(x.outOfRange !== undefined && { outOfRange: x.outOfRange }),
      };
      const batch = {
        ...envelope([w]),
        agent: x.agent,
        ...(x.site === undefined ? { site: undefined } : { site: x.site }),
      } as BatchEnvelope;
      const encoder = new PointEncoder(x.unit === undefined ? {} : { [x.metric]: x.unit });
      const reference = new PointEncoder(x.unit === undefined ? {} : { [x.metric]: x.unit });
      const judged = x.judged && x.rev > 0 ? windowInput(w) : undefined;
      let want: string | undefined | Error;
      try {
        want = reference.windowByBuilder(batch, w, judged);
      } catch (err) {
        want = err as Error;
      }
      if (want instanceof Error) assert.throws(() => encoder.window(batch, w, judged));
      else {
        // As UTF-8, what is sent: `window` reads its bytes back, so a lone surrogate comes back as U+FFFD, as it went out.
        const sent = (line: string | undefined) => (line === undefined ? undefined : Buffer.from(line));
        assert.deepEqual(sent(encoder.window(batch, w, judged)), sent(want));
        // Again, with what the encoder remembers of the first (the metric's measurement and unit tag, the agent's and site's tags).
        assert.deepEqual(sent(encoder.window(batch, w, judged)), sent(want));
      }
      // As bytes (what the processor writes): the same lines, the same points set aside, twice over.
      const strings = reference.batch(batch, [], () => judged);
      for (let again = 0; again < 2; again++) {
        const bytes = encoder.batchBytes(batch, () => judged);
        // Line by line, byte for byte as the string lines were sent (UTF-8: a lone surrogate as U+FFFD), where each starts.
        const e = bytes.lines;
        const lineBytes = Array.from({ length: e.length }, (_, i) =>
          e.bytes.subarray(e.starts[i], e.starts[i + 1]! - 1),
        );
        assert.deepEqual(
          lineBytes,
          strings.lines.map((l) => Buffer.from(l)),
        );
        assert.equal(Buffer.compare(e.bytes, Buffer.from(strings.lines.join('\n'))), 0);
        assert.deepEqual(bytes.unencodable, strings.unencodable);
      }
    }),
    { numRuns: 5_000 },
  );
});

test('a window of out-of-range readings only (count 0) is count, out_of_range and length_ms, as the LineBuilder writes it; a correction adds rev and what was judged', () => {
  const glitches: WindowResult = {
    device: 'p',
    metric: 'temperature',
    start: 1_700_000_000_000,
    end: 1_700_000_060_000,
    count: 0,
    outOfRange: 3,
    rev: 0,
  };
  // A late glitch (re-emit mode): the window again, its first emission's judged values with it.
  const corrected: WindowResult = { ...glitches, outOfRange: 4, rev: 1 };
  const batch = envelope([glitches, corrected]);
  const encoder = new PointEncoder({ temperature: '°C' });
  const reference = new PointEncoder({ temperature: '°C' });
  const head = 'temperature,agent=gw,device=p,site=plant-a,unit=°C';
  const first = encoder.window(batch, glitches);
  const again = encoder.window(batch, corrected, windowInput(glitches));
  assert.deepEqual(
    [first, again],
    [
      `${head} count=0i,out_of_range=3i,length_ms=60000i 1700000060000`,
      `${head} count=0i,out_of_range=4i,length_ms=60000i,rev=1i,judged_count=0i,judged_out_of_range=3i 1700000060000`,
    ],
  );
  assert.deepEqual(
    [first, again],
    [reference.windowByBuilder(batch, glitches), reference.windowByBuilder(batch, corrected, windowInput(glitches))],
  );
});
