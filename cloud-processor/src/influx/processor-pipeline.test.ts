import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ack } from '@tributary/firmware-schemas';
import { WriteAbortedError } from './errors.js';
import { ForeignAgentError } from '../ingest/intake.js';
import { batch, processorRig } from './processor-rig.js';

test('batches are written in flight together, but finish (dedupe, counters, ack) in arrival order', async (t) => {
  const { sink, dedupe, counters, processor } = processorRig(t);
  const order: number[] = [];
  const acks = [1, 2, 3].map((seq) => processor.process(batch(seq), 'gw').ack.then((a) => (order.push(a!.seq), a)));
  assert.equal(sink.writes.length, 3, 'all three handed to the writer at once');
  assert.match(sink.writes[0]!.lines[0]!, /^temperature,agent=gw,device=d\\ 1 count=3i,/);
  sink.writes[2]!.settle({ deadLettered: 0, dropped: 0 });
  sink.writes[1]!.settle({ deadLettered: 0, dropped: 0 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'nothing acked before the first batch is durable');
  assert.equal(dedupe.seen('gw', 0, 3), false, 'dedupe records a batch only after it is written and finished');
  sink.writes[0]!.settle({ deadLettered: 1, dropped: 0 });
  const done = (await Promise.all(acks)) as Ack[];
  assert.deepEqual(order, [1, 2, 3]);
  assert.ok(done.every((a) => a.status === 'ok'));
  assert.equal(counters.get('batches_written'), 3);
  assert.equal(counters.get('points_written'), 5, 'two points each (window, agent stats), one dead-lettered');
  assert.equal(dedupe.seen('gw', 0, 3), true);
});

test('a batch whose write is abandoned is not acked and not recorded; later batches still finish', async (t) => {
  const { sink, dedupe, processor } = processorRig(t);
  const first = processor.process(batch(1), 'gw').ack;
  const second = processor.process(batch(2), 'gw').ack;
  sink.writes[0]!.fail(new WriteAbortedError('stopping'));
  sink.writes[1]!.settle({ deadLettered: 0, dropped: 0 });
  await assert.rejects(first, WriteAbortedError);
  assert.equal((await second)?.status, 'ok');
  assert.equal(dedupe.seen('gw', 0, 1), false);
});

test('a batch far ahead in seq is written and tracked apart: the real agent’s later batches are not taken for duplicates', async (t) => {
  const { sink, dedupe, counters, processor, apart } = processorRig(t);
  const settleAll = (): void => {
    for (const w of sink.writes.splice(0)) w.settle({ deadLettered: 0, dropped: 0 });
  };
  const first = processor.process(batch(1), 'gw').ack;
  settleAll();
  await first;
  const hostile = processor.process(batch(2 ** 40, 2), 'gw').ack;
  settleAll();
  assert.equal((await hostile)?.status, 'ok', 'its points are written and acked');
  assert.equal(counters.get('batches_tracked_apart'), 1);
  assert.deepEqual(apart, [
    `agent gw: seq ${2 ** 40} is ${2 ** 40 - 1} past the highest seq 1 of its stream in epoch 0 (dedupe.maxSeqGap 512, windowSize 1024): lost batches, or someone else posts as it; written, and tracked apart from its other seqs`,
  ]);
  const next = processor.process(batch(2, 3), 'gw');
  assert.equal(sink.writes.length, 1, 'seq 2 of the real agent is written, not taken for a duplicate');
  settleAll();
  assert.equal((await next.ack)?.status, 'ok');
  assert.equal(dedupe.stats()[0]?.maxSeq, 2);
  assert.equal(counters.get('batches_tracked_apart'), 1);
});

test('a batch naming another agent than the one it came as is not processed: ForeignAgentError, with the rejected ack', async (t) => {
  const { sink, counters, processor } = processorRig(t);
  await assert.rejects(processor.process(batch(7), 'gw-b').ack, (err: ForeignAgentError) => {
    assert.equal(err.code, 'FOREIGN_AGENT');
    assert.deepEqual([err.batchAgent, err.cameAs], ['gw', 'gw-b']);
    assert.deepEqual(err.ack, {
      v: 1,
      agent: 'gw-b',
      seq: 7,
      status: 'rejected',
      reason: 'batch says agent gw but came as gw-b',
    });
    return true;
  });
  assert.equal(sink.writes.length, 0);
  assert.equal(counters.get('batches_invalid'), 1);
});

test('copies of a batch still being written: one waits for its outcome, the rest get no answer and hold nothing', async (t) => {
  const { sink, counters, processor } = processorRig(t);
  const original = processor.process(batch(1), 'gw').ack;
  const copies = [1, 2, 3, 4].map(() => processor.process(batch(1), 'gw').ack);
  assert.equal(sink.writes.length, 1, 'a copy is never written again');
  const unanswered = await Promise.all(copies.slice(1));
  assert.deepEqual(
    unanswered,
    [undefined, undefined, undefined],
    'answered at once, without an ack: the agent sends again later',
  );
  sink.writes[0]!.settle({ deadLettered: 0, dropped: 0 });
  assert.equal((await original)?.status, 'ok');
  assert.equal((await copies[0])?.status, 'duplicate');
  assert.equal(counters.get('batches_duplicate'), 4);
  // Once written, a further copy is a plain duplicate.
  assert.equal((await processor.process(batch(1), 'gw').ack)?.status, 'duplicate');
});
