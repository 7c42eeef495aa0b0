import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Job, LineQueue, type WriteReport } from './requests.js';

function job(prefix: string, n: number, reports: WriteReport[] = []): Job {
  return new Job(
    Array.from({ length: n }, (_, i) => `${prefix}${i}`),
    (r) => reports.push(r),
    () => undefined,
  );
}

test('requests take lines in submission order, across jobs and splitting a job', () => {
  const q = new LineQueue();
  q.push(job('a', 3), 1);
  q.push(job('b', 4), 2);
  q.push(job('c', 2), 3);
  assert.equal(q.lines, 9);
  assert.deepEqual(q.take(5)!.allLines(), ['a0', 'a1', 'a2', 'b0', 'b1']);
  assert.equal(q.oldestAt, 2, 'the rest of b is next');
  assert.deepEqual(q.take(5)!.allLines(), ['b2', 'b3', 'c0', 'c1']);
  assert.equal(q.take(5), undefined);
  assert.equal(q.lines, 0);
});

test('halves split a request by lines, through a job if need be', () => {
  const q = new LineQueue();
  q.push(job('a', 3), 1);
  q.push(job('b', 2), 1);
  const [first, second] = q.take(100)!.halves();
  assert.deepEqual(first.allLines(), ['a0', 'a1', 'a2']);
  assert.deepEqual(second.allLines(), ['b0', 'b1']);
  const [x, y] = first.halves();
  assert.deepEqual([x.allLines(), y.allLines()], [['a0', 'a1'], ['a2']]);
  assert.equal(first.text(), 'a0\na1\na2');
});

test('a job reports once all its lines are settled, with what was dead-lettered and dropped', () => {
  const reports: WriteReport[] = [];
  const q = new LineQueue();
  q.push(job('a', 4, reports), 1);
  const [first, second] = q.take(4)!.halves();
  first.settle(false);
  assert.equal(reports.length, 0);
  second.settle(true, 1);
  assert.deepEqual(reports, [{ deadLettered: 1, dropped: 1 }]);
});
