import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNabTimestamp, parseResultsCsv, parseSeriesCsv } from './csv.js';

const cases = [
  { name: 'final newline', text: 'timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2\n', values: [1, 2] },
  { name: 'no final newline', text: 'timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2', values: [1, 2] },
  { name: 'CRLF line ends', text: 'timestamp,value\r\n2014-04-01 00:00:00,1.5\r\n', values: [1.5] },
  {
    name: 'repeated timestamps stay separate rows',
    text: 'timestamp,value\n2014-03-09 03:00:00,1\n2014-03-09 03:00:00,2\n2014-03-09 03:00:00,3',
    values: [1, 2, 3],
  },
];

for (const c of cases) {
  test(`series CSV: ${c.name}`, () => {
    assert.deepEqual(
      parseSeriesCsv(c.text).map((r) => r.value),
      c.values,
    );
  });
}

test('timestamps are read as UTC, with or without a fraction', () => {
  assert.equal(parseNabTimestamp('2014-04-01 00:05:00'), Date.UTC(2014, 3, 1, 0, 5, 0));
  assert.equal(parseNabTimestamp('2014-04-01 00:05:00.000000'), Date.UTC(2014, 3, 1, 0, 5, 0));
  assert.throws(() => parseNabTimestamp('yesterday'));
});

test('a bad header or row is reported with its position', () => {
  assert.throws(() => parseSeriesCsv('time,value\n'), /header/);
  assert.throws(() => parseSeriesCsv('timestamp,value\n2014-04-01 00:00:00,abc'), /row 0/);
});

test('results: file,row,score or NAB anomaly_score; other columns ignored', () => {
  const a = parseResultsCsv('file,row,score\na/b.csv,3,0.5\n');
  assert.equal(a.get('a/b.csv')?.get(3), 0.5);
  const b = parseResultsCsv('file,row,timestamp,anomaly_score\na/b.csv,7,2014-04-01 00:00:00,0.25');
  assert.equal(b.get('a/b.csv')?.get(7), 0.25);
  assert.throws(() => parseResultsCsv('file,score\n'), /header/);
});
