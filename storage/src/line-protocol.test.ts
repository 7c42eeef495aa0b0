import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeKey, escapeMeasurement, LineBuilder, LineProtocolError, quoteString } from './line-protocol.js';

// The line protocol reference, "Special characters": measurement — comma, space; tag key, tag
// value, field key — comma, equals sign, space; string field value — double quote, backslash.
const cases: Array<{ name: string; escape: (s: string) => string; input: string; want: string }> = [
  { name: 'measurement: comma and space', escape: escapeMeasurement, input: 'my measure,x', want: 'my\\ measure\\,x' },
  { name: 'measurement: equals sign is not special', escape: escapeMeasurement, input: 'a=b', want: 'a=b' },
  { name: 'measurement: double quotes are part of the name', escape: escapeMeasurement, input: '"q"', want: '"q"' },
  { name: 'measurement: a leading # is not a comment', escape: escapeMeasurement, input: '#m', want: '\\#m' },
  { name: 'tag value: comma, equals sign and space', escape: escapeKey, input: 'dev 1,a=b', want: 'dev\\ 1\\,a\\=b' },
  {
    name: 'tag value: looks like a whole point',
    escape: escapeKey,
    input: 'temperature,device=x value=1',
    want: 'temperature\\,device\\=x\\ value\\=1',
  },
  { name: 'tag value: newline cannot end the point', escape: escapeKey, input: 'a\nb', want: 'a\\nb' },
  { name: 'tag value: tab, carriage return, form feed', escape: escapeKey, input: 'a\tb\rc\fd', want: 'a\\tb\\rc\\fd' },
  { name: 'tag value: quotes are kept as they are', escape: escapeKey, input: `it's "x"`, want: `it's\\ "x"` },
  { name: 'tag value: a backslash inside stays literal', escape: escapeKey, input: 'a\\b', want: 'a\\b' },
  { name: 'tag value: a trailing backslash would escape the separator', escape: escapeKey, input: 'a\\\\', want: 'a' },
  { name: 'tag value: unicode needs nothing', escape: escapeKey, input: 'капля 🍭', want: 'капля\\ 🍭' },
  { name: 'field key: same rules as tag keys', escape: escapeKey, input: 'p 50=x', want: 'p\\ 50\\=x' },
  {
    name: 'string field: double quote and backslash',
    escape: quoteString,
    input: 'say "hi" \\o/',
    want: '"say \\"hi\\" \\\\o/"',
  },
  { name: 'string field: comma, space, equals need nothing', escape: quoteString, input: 'a, b=c', want: '"a, b=c"' },
  { name: 'string field: newline', escape: quoteString, input: 'line1\nline2', want: '"line1\\nline2"' },
];

for (const c of cases) {
  test(`escaping — ${c.name}`, () => assert.equal(c.escape(c.input), c.want));
}

const points: Array<{ name: string; build: (b: LineBuilder) => string | undefined; want: string | undefined }> = [
  {
    name: 'tags, integer, float, string and boolean fields, ms timestamp',
    build: (b) =>
      b
        .start('cpu')
        .tag('device', 'dev 1,a=b')
        .tag('site', 'x')
        .int('count', 3)
        .float('mean', 0.5)
        .string('msg', 'ok "fine"')
        .bool('up', true)
        .end(1_700_000_000_123),
    want: 'cpu,device=dev\\ 1\\,a\\=b,site=x count=3i,mean=0.5,msg="ok \\"fine\\"",up=true 1700000000123',
  },
  {
    name: 'an empty or missing tag value is left out',
    build: (b) => b.start('m').tag('a', '').tag('b', undefined).tag('c', 'v').float('f', 1).end(1),
    want: 'm,c=v f=1 1',
  },
  {
    name: 'NaN and Infinity have no form and are left out',
    build: (b) => b.start('m').float('a', Number.NaN).float('b', Infinity).float('c', -2.5).end(1),
    want: 'm c=-2.5 1',
  },
  {
    name: 'no field left: no line',
    build: (b) => b.start('m').tag('a', 'x').float('f', Number.NaN).end(1),
    want: undefined,
  },
  {
    name: 'floats in exponent form',
    build: (b) => b.start('m').float('small', 1e-7).float('big', 1.5e21).end(1),
    want: 'm small=1e-7,big=1.5e+21 1',
  },
  {
    name: 'integers are truncated, never written as floats',
    build: (b) => b.start('m').int('n', 41.9).int('neg', -3).end(2.7),
    want: 'm n=41i,neg=-3i 2',
  },
];

for (const c of points) {
  test(`point — ${c.name}`, () => assert.equal(c.build(new LineBuilder()), c.want));
}

test('tag keys must come in ascending order (InfluxDB sorts them; so does the encoder)', () => {
  assert.throws(() => new LineBuilder().start('m').tag('site', 'a').tag('agent', 'b'), LineProtocolError);
});

test('an empty measurement or field key is refused', () => {
  assert.throws(() => new LineBuilder().start(''), LineProtocolError);
  assert.throws(() => new LineBuilder().start('m').float('', 1), LineProtocolError);
});

test('a builder is reusable: start resets it', () => {
  const b = new LineBuilder();
  assert.equal(b.start('a').tag('t', '1').float('f', 1).end(1), 'a,t=1 f=1 1');
  assert.equal(b.start('b').float('g', 2).end(2), 'b g=2 2');
});
