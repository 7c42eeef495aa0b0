import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSerialLine } from '@tributary/firmware-schemas';
import { LineFramer, type Framed } from './line-framer.js';

const DOLLAR = '$'.charCodeAt(0);

/** Feeds `chunks` through a framer and collects what it yields. */
function frame(chunks: readonly Buffer[], maxBufferSize: number, startByte?: number): Framed[] {
  const out: Framed[] = [];
  const framer = new LineFramer(startByte === undefined ? { maxBufferSize } : { maxBufferSize, startByte });
  framer.on('data', (f: Framed) => out.push(f));
  for (const c of chunks) framer.write(c);
  framer.end();
  return out;
}

const line1 = encodeSerialLine({ device: 'th-1', seq: 1, ts: 1_700_000_000_000, values: { t: 21.5 } });
const line2 = encodeSerialLine({ device: 'th-2', values: { t: -3, h: 40 } });
const serialCases = [
  { name: 'clean lines', input: line1 + line2, expect: [line1, line2] },
  {
    name: 'garbage between lines is reported once per run',
    input: `\x00\xffnoise${line1}junk\r\n${line2}`,
    expect: ['error', line1, 'error', line2],
  },
  {
    name: 'a truncated line resynchronises at the next $',
    input: `${line1.slice(0, 12)}${line2}`,
    expect: ['error', line2],
  },
  {
    name: 'an over-long line is skipped to the next line start',
    input: `$TRB,${'x'.repeat(80)}*00\r\n${line1}`,
    expect: ['error', line1],
  },
  { name: 'blank lines and bare CR LF are passed over', input: `\r\n\r\n${line1}\n\n${line2}`, expect: [line1, line2] },
  { name: 'a stream ending inside a line reports it', input: `${line1}${line2.slice(0, 9)}`, expect: [line1, 'error'] },
];

for (const c of serialCases) {
  test(`serial framing: ${c.name}, split at every byte`, () => {
    const bytes = Buffer.from(c.input, 'latin1');
    const expected = c.expect.map((e) => (e === 'error' ? 'error' : e.replace(/\r\n$/, '')));
    const shown = (fs: Framed[]): string[] => fs.map((f) => (f.error !== undefined ? 'error' : f.line));
    assert.deepEqual(shown(frame([bytes], 64, DOLLAR)), expected, 'whole');
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(shown(frame([bytes.subarray(0, i), bytes.subarray(i)], 64, DOLLAR)), expected, `split at ${i}`);
    }
    assert.deepEqual(
      shown(
        frame(
          [...bytes].map((b) => Buffer.from([b])),
          64,
          DOLLAR,
        ),
      ),
      expected,
      'one byte at a time',
    );
  });
}

test('plain lines (file source): bounded, last line without newline kept', () => {
  const input = Buffer.from(`{"a":1}\r\n${'y'.repeat(40)}\n\n{"b":2}`);
  for (let i = 0; i <= input.length; i++) {
    const out = frame([input.subarray(0, i), input.subarray(i)], 16);
    assert.deepEqual(
      out.map((f) => f.line ?? 'error'),
      ['{"a":1}', 'error', '{"b":2}'],
      `split at ${i}`,
    );
  }
});

test('maxBufferSize is required', () => {
  assert.throws(() => new LineFramer({ maxBufferSize: 0 }), RangeError);
});
