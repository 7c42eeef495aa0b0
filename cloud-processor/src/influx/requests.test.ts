import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

test('lines of any UTF-8 width come out of requests exactly as they went in, however a job is cut', () => {
  const lines = ['t,device=é v=1 1', 'τ,device=🍭 v=2 2', 'plain v=3 3', 'x,device=a\\ b v=4 4', '€ v=5 5'];
  for (let cut = 1; cut <= lines.length; cut++) {
    const q = new LineQueue();
    q.push(
      new Job(
        lines,
        () => undefined,
        () => undefined,
      ),
      1,
    );
    const first = q.take(cut)!;
    const rest = q.take(100);
    assert.deepEqual([...first.allLines(), ...(rest?.allLines() ?? [])], lines);
    assert.equal(first.text(), lines.slice(0, cut).join('\n'));
    assert.deepEqual(first.bytes(), Buffer.from(lines.slice(0, cut).join('\n')));
  }
});

test('the queue lets go of a job once its lines are taken (it held the last 1,024 jobs, and every line of each, until then)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const q = new LineQueue();
  // 200 batches' points, each taken into its request and written: nothing should stay behind.
  const taken = ((): WeakRef<Job>[] => {
    const refs: WeakRef<Job>[] = [];
    for (let i = 0; i < 200; i++) {
      const j = job(`batch${i}-`, 500);
      refs.push(new WeakRef(j));
      q.push(j, i);
      q.take(5_000)!.settle(false);
    }
    return refs;
  })();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(
    taken.filter((r) => r.deref() !== undefined).length,
    0,
    'jobs (and their lines) still held by the queue',
  );
  // Lines waiting are kept, of course, and come out in order.
  q.push(job('w', 3), 1);
  assert.deepEqual(q.take(5)!.allLines(), ['w0', 'w1', 'w2']);
});
