import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchEnvelope, WindowResult } from '@tributary/firmware-schemas';
import { PointEncoder } from './points.js';
import { storedInput, windowsOf } from './stored-rows.js';
import { windowInput } from './window-input.js';

const first: WindowResult = {
  device: 'd1',
  metric: 'temperature',
  start: 1_700_000_000_000,
  end: 1_700_000_300_000,
  count: 10,
  sum: 200,
  min: 19,
  max: 21,
  mean: 20,
  m2: 1.8,
  first: 19.5,
  last: 20.5,
  firstTs: 1_700_000_000_000,
  lastTs: 1_700_000_290_000,
  rev: 0,
};
const corrected: WindowResult = { ...first, count: 11, sum: 226, max: 26, mean: 226 / 11, m2: 30, rev: 1 };
const batch = (w: WindowResult): BatchEnvelope => ({
  v: 1,
  agent: 'gw',
  epoch: 0,
  seq: 1,
  sentAt: first.end,
  windows: [w],
  counters: {},
});

/** A line's fields as InfluxDB would hand them back (one row of a SELECT *), later lines merged over earlier ones. */
function stored(...lines: string[]): { columns: string[]; values: unknown[][]; name: string } {
  const fields = new Map<string, unknown>();
  for (const line of lines) {
    for (const kv of line.split(' ')[1]!.split(',')) {
      const [k, v] = kv.split('=') as [string, string];
      fields.set(k, v.endsWith('i') ? Number(v.slice(0, -1)) : Number(v));
    }
  }
  fields.set('time', Number(lines[0]!.split(' ')[2]));
  return { name: 'temperature', columns: [...fields.keys()], values: [[...fields.values()]] };
}

test('a window point stores its length, so sliding windows (a minute apart, five long) replay with their length', () => {
  const line = new PointEncoder().window(batch(first), first)!;
  assert.match(line, /,length_ms=300000i /);
  const [w] = windowsOf(stored(line));
  assert.deepEqual(storedInput('d1', 'temperature', w!, 60_000), windowInput(first));
});

test('a correction keeps the aggregates of the last revision and what detection judged at the first emission', () => {
  const encoder = new PointEncoder();
  const line0 = encoder.window(batch(first), first)!;
  const line1 = encoder.batch(batch(corrected), [], () => windowInput(first)).lines[0]!;
  assert.match(line1, /,rev=1i,judged_count=10i,judged_mean=20,/);
  const [w] = windowsOf(stored(line0, line1));
  assert.equal(w!.rev, 1);
  assert.equal(w!.max, 26, 'queries see the corrected window');
  assert.deepEqual(
    storedInput('d1', 'temperature', w!, 0),
    windowInput(first),
    'replay judges the first emission, as the live path did',
  );
  // A first emission never carries judged values, whatever the lookup says.
  assert.doesNotMatch(encoder.batch(batch(first), [], () => windowInput(first)).lines[0]!, /judged_/);
});

test('a window of out-of-range readings only: count 0, its out_of_range and length, no value field; read back as detection judged it, corrected or not', () => {
  const glitch: WindowResult = {
    device: 'd1',
    metric: 'temperature',
    start: first.start,
    end: first.end,
    count: 0,
    rev: 0,
    outOfRange: 2,
  };
  const encoder = new PointEncoder();
  const line0 = encoder.window(batch(glitch), glitch)!;
  assert.equal(line0, `temperature,agent=gw,device=d1 count=0i,out_of_range=2i,length_ms=300000i ${first.end}`);
  assert.equal(encoder.windowByBuilder(batch(glitch), glitch), line0);
  const [w] = windowsOf(stored(line0));
  const input = storedInput('d1', 'temperature', w!, 0);
  assert.deepEqual(input, windowInput(glitch));
  assert.deepEqual([input.count, input.outOfRange, input.value, input.stddev], [0, 2, Number.NaN, Number.NaN]);
  // A late reading corrects it: the point takes the reading, and keeps what was judged (count 0, no value).
  const late: WindowResult = { ...first, count: 1, sum: 20, min: 20, max: 20, mean: 20, m2: 0, rev: 1, outOfRange: 2 };
  const line1 = encoder.batch(batch(late), [], () => windowInput(glitch)).lines[0]!;
  assert.match(line1, /,rev=1i,judged_count=0i,judged_out_of_range=2i /);
  assert.doesNotMatch(line1, /NaN|judged_mean/);
  const [c] = windowsOf(stored(line0, line1));
  assert.equal(c!.mean, 20, 'queries see the corrected window');
  assert.deepEqual(storedInput('d1', 'temperature', c!, 0), windowInput(glitch), 'replay judges the first emission');
});
