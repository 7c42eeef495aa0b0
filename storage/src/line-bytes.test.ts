import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LineBytes } from './line-bytes.js';

const written = (write: (out: LineBytes) => void): string => {
  const out = new LineBytes(8);
  out.begin();
  write(out);
  out.commit();
  return out.finish().bytes.toString('utf8');
};

test('a number is written exactly as String(x) writes it: decimals of few digits, any double, integers, the edges', () => {
  const decimal = fc
    .tuple(fc.integer({ min: -(2 ** 53), max: 2 ** 53 }), fc.integer({ min: 0, max: 9 }))
    .map(([m, k]) => m / 10 ** k);
  const edges = fc.constantFrom(
    0,
    -0,
    1e-6,
    1e-7,
    0.1 + 0.2,
    1e15,
    1e15 - 1,
    999999999999999.9,
    1e21,
    5e-324,
    NaN,
    -Infinity,
  );
  fc.assert(
    fc.property(fc.oneof(decimal, fc.double(), fc.integer(), fc.maxSafeInteger(), edges), (x) => {
      assert.equal(
        written((out) => out.number(x)),
        String(x),
      );
    }),
    { numRuns: 50_000 },
  );
});

test('lines are joined by newlines with where each starts; an abandoned line leaves nothing, first, in between or last', () => {
  const out = new LineBytes(4);
  const line = (s: string, keep: boolean): void => {
    out.begin();
    out.text(s);
    if (keep) out.commit();
    else out.abandon();
  };
  line('gone', false);
  line('a=1', true);
  line('gone too', false);
  line('é,b=2', true);
  line('c', true);
  line('and gone', false);
  const e = out.finish();
  assert.equal(e.bytes.toString('utf8'), 'a=1\né,b=2\nc');
  assert.equal(e.length, 3);
  assert.deepEqual([...e.starts], [0, 4, 11, 13]);
  // The writer starts afresh.
  line('next', true);
  assert.equal(out.finish().bytes.toString('utf8'), 'next');
  assert.equal(new LineBytes().finish().length, 0);
});
