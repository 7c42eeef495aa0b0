import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EdgeAgent, LineFramer, type Framed } from '@tributary/edge-agent';
import { AgentConfigSchema, decodeSerialLine } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import fc from 'fast-check';
import { fuzzProperty, fuzzTimeout, type FuzzBounds } from '../harness/fuzz.js';
import { scratchDir } from '../harness/scratch.js';

const MAX_LINE_BYTES = 512;
const $ = 0x24;

/**
 * A line as firmware writes it (serial-line.ts): `$TRB,device,seq,ts,metric=value…*CS\r\n`, the
 * checksum the XOR of the UTF-8 bytes between `$` and `*`, computed here apart from the decoder.
 */
function firmwareLine(device: string, seq: number, ts: number, values: ReadonlyArray<[string, number]>): Buffer {
  const body = Buffer.from(`TRB,${device},${seq},${ts},${values.map(([m, v]) => `${m}=${v}`).join(',')}`);
  let x = 0;
  for (const b of body) x ^= b;
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`*${x.toString(16).toUpperCase().padStart(2, '0')}\r\n`)]);
}

/** Device ids as sensors are named, ASCII and not (serial ids exclude `,` `*` `$`, which frame the line). */
const deviceId = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z]{1,4}-[0-9]{1,4}$/) },
  { weight: 1, arbitrary: fc.constantFrom('café-1', 'température-2', '温度-3', 'sensor\u{1f321}', 'Zürich-4') },
);

interface ValidLine {
  readonly kind: 'valid';
  readonly bytes: Buffer;
  readonly readings: number;
}
type Segment = ValidLine | { readonly kind: 'garbage'; readonly bytes: Buffer };

/** Bytes a noisy line carries between lines: random, heavy in the bytes that frame lines, or line-like and broken. */
const garbage = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 80 }),
    fc
      .array(fc.constantFrom(0x24, 0x2a, 0x0d, 0x0a, 0x2c, 0x3d, 0x00, 0xff, 0x41), { minLength: 1, maxLength: 40 })
      .map((b) => Uint8Array.from(b)),
    // Too long for a line: the framer skips it to the next line.
    fc
      .integer({ min: MAX_LINE_BYTES, max: MAX_LINE_BYTES * 3 })
      .map((n) => Uint8Array.from([$, ...Buffer.alloc(n, 0x41), 0x0a])),
    // A line with a wrong checksum (flipped byte), or cut short.
    fc.tuple(fc.integer({ min: 5, max: 30 }), fc.boolean()).map(([cut, flip]) => {
      const line = firmwareLine('th-1', 1, 1_700_000_000_000, [['temperature', 21.5]]);
      if (flip) line[6] = line[6]! ^ 0x01;
      return flip ? line : line.subarray(0, cut);
    }),
  )
  .map((bytes): Segment => ({ kind: 'garbage', bytes: Buffer.from(bytes) }));

const stream = (now: number) =>
  fc.tuple(
    fc.array(
      fc.oneof(
        fc
          .tuple(
            deviceId,
            fc.integer({ min: 0, max: 1e6 }),
            fc.uniqueArray(fc.constantFrom('temperature', 'humidity', 'co2', 'pressure'), {
              minLength: 1,
              maxLength: 3,
            }),
            fc.integer({ min: -4000, max: 4000 }),
          )
          .map(
            ([device, seq, metrics, v]): Segment => ({
              kind: 'valid',
              bytes: firmwareLine(
                device,
                seq,
                now - 1_000,
                metrics.map((m) => [m, v / 10]),
              ),
              readings: metrics.length,
            }),
          ),
        garbage,
      ),
      { maxLength: 30 },
    ),
    fc.array(fc.integer({ min: 1, max: 4_000 }), { maxLength: 12 }),
  );

/** Feeds `bytes`, cut at `cuts`, through a framer like the serial source's; returns what it framed. */
async function frame(bytes: Buffer, cuts: number[]): Promise<Framed[]> {
  const framer = new LineFramer({ maxBufferSize: MAX_LINE_BYTES, startByte: $ });
  const out: Framed[] = [];
  framer.on('data', (f: Framed) => out.push(f));
  const ends = [...new Set(cuts.filter((c) => c < bytes.length)), bytes.length].sort((a, b) => a - b);
  let from = 0;
  for (const end of ends) {
    framer.write(bytes.subarray(from, end));
    from = end;
  }
  framer.end();
  await new Promise((resolve) => framer.once('end', resolve));
  return out;
}

const BOUNDS: FuzzBounds = { runs: 2_000, budgetMs: 6_000 };

test('fuzz: serial byte streams through the line framer and decoder — firmware lines among garbage, cut anywhere, all arrive; everything else is counted, nothing throws', {
  timeout: fuzzTimeout(BOUNDS),
}, async (t) => {
  const now = Date.now();
  const stateDir = scratchDir('fuzz-serial');
  await fuzzProperty(t, 'serial framer + decoder + pipeline', BOUNDS, stream(now), async ([segments, cuts]) => {
    const framed = await frame(Buffer.concat(segments.map((s) => s.bytes)), cuts);
    // As the serial source does: each framed line to the pipeline, each framing error counted.
    const agent = new EdgeAgent({
      config: AgentConfigSchema.parse({
        agentId: 'fuzz',
        sources: [{ type: 'file', path: '/dev/null' }],
        windows: { maxSeries: 100_000, allowedLatenessMs: 60_000 },
        uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1' },
        spool: { type: 'memory' },
      }),
      log: silentLogger,
      stateDir,
    });
    for (const f of framed) {
      if (f.line !== undefined) {
        assert.ok(Buffer.byteLength(f.line) <= MAX_LINE_BYTES + 1, 'the framer holds at most maxBufferSize + 1 bytes');
        agent.pipeline.ingestSerialLine(f.line, 'fuzz', MAX_LINE_BYTES);
      } else agent.pipeline.framingError(f.error, 'fuzz');
    }
    const valid = segments.filter((s): s is ValidLine => s.kind === 'valid');
    const decoded = framed
      .filter((f) => f.line !== undefined && decodeSerialLine(f.line, MAX_LINE_BYTES).ok)
      .map((f) => `${f.line}\r\n`);
    assert.deepEqual(
      decoded,
      valid.map((v) => v.bytes.toString('utf8')),
      'every firmware line, and nothing else, decodes, in order',
    );
    const c = agent.counters;
    assert.equal(c.get('messages_received'), framed.length, 'every framed line or framing error is counted once');
    assert.equal(
      c.get('messages_invalid'),
      framed.length - valid.length,
      'what is not a firmware line is counted as invalid',
    );
    assert.equal(
      c.get('readings_received'),
      valid.reduce((n, v) => n + v.readings, 0),
    );
    assert.equal(
      c.get('readings_accepted') + c.get('readings_late') + c.get('readings_too_late'),
      c.get('readings_received'),
      'each reading is accepted or counted as late',
    );
  });
});

test('fuzz: any string through decodeSerialLine returns a value or a typed error, never throws, and a value is well-formed', {
  timeout: fuzzTimeout(BOUNDS),
}, async (t) => {
  const line = fc.oneof(
    fc.string({ maxLength: 600, unit: 'binary' }),
    fc.string({ maxLength: 80 }).map((s) => `$TRB,${s}`),
    fc
      .tuple(fc.string({ maxLength: 60, unit: 'grapheme' }), fc.integer({ min: 0, max: 255 }))
      .map(([body, cs]) => `$${body}*${cs.toString(16).padStart(2, '0')}\r\n`),
  );
  const codes = new Set(['framing', 'checksum', 'schema', 'bad_id']);
  await fuzzProperty(t, 'decodeSerialLine', { runs: 5_000, budgetMs: 3_000 }, line, (text) => {
    const r = decodeSerialLine(text);
    if (!r.ok) return assert.ok(codes.has(r.error.code), `error code ${r.error.code}: ${r.error.message}`);
    assert.ok(
      Object.values(r.value.values).every((v) => Number.isFinite(v)),
      'readings are finite numbers',
    );
    assert.ok(Object.keys(r.value.values).length > 0);
  });
});

test('fuzz: 32 MiB of noise without a line end leaves the framer within its bound and the heap flat', async (t) => {
  const framer = new LineFramer({ maxBufferSize: MAX_LINE_BYTES, startByte: $ });
  let errors = 0;
  framer.on('data', (f: Framed) => {
    if (f.line !== undefined) assert.fail('no line end, no line');
    errors++;
  });
  const noise = Buffer.alloc(64 * 1024);
  for (let i = 0; i < noise.length; i++) noise[i] = i % 997 === 0 ? $ : 0x41 + (i % 26);
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 512; i++) framer.write(noise);
  const grown = process.memoryUsage().heapUsed - before;
  framer.end();
  t.diagnostic(
    `32 MiB of noise: ${errors} framing errors, heap ${grown >= 0 ? '+' : ''}${(grown / 1024 / 1024).toFixed(1)} MiB`,
  );
  assert.ok(grown < 8 * 1024 * 1024, `the heap grew by ${grown} bytes`);
});
