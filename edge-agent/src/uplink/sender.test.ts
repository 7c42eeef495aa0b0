import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryBatchQueue } from '../spool/memory-queue.js';
import { SeqStore } from '../spool/seq-store.js';
import { Sender } from './sender.js';

function setup(n: number, maxInFlight = 2, random = () => 0) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-sender-'));
  const queue = new MemoryBatchQueue(100, 'drop-oldest', new SeqStore(join(dir, 'seq.json')));
  queue.open();
  for (let i = 0; i < n; i++) {
    const seq = queue.nextSeq();
    queue.append({ seq, windows: 1, readings: 1 }, `batch ${seq}`);
  }
  // random() = 0: no jitter on resends, so times are exact.
  const sender = new Sender(queue, maxInFlight, 1000, 100, 8000, random);
  return { queue, sender, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('at most maxInFlight batches are out, always the oldest', () => {
  const { sender, cleanup } = setup(5);
  assert.deepEqual(
    sender.due(0).map((b) => b.seq),
    [0, 1],
  );
  assert.deepEqual(sender.due(10), [], 'nothing more until an ack frees a slot');
  sender.acked(0);
  assert.deepEqual(
    sender.due(20).map((b) => b.seq),
    [2],
  );
  cleanup();
});

test('an unacked batch is resent after the ack timeout, doubling each attempt up to the maximum', () => {
  const { sender, cleanup } = setup(1, 1);
  const sends: number[] = [];
  for (let t = 0; t <= 40_000; t += 100) if (sender.due(t).length > 0) sends.push(t);
  assert.deepEqual(sends, [0, 1000, 3000, 7000, 15000, 23000, 31000, 39000]);
  cleanup();
});

test('no resend comes sooner than the ack timeout, whatever the jitter and however low backoff.maxMs is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-sender-'));
  const queue = new MemoryBatchQueue(100, 'drop-oldest', new SeqStore(join(dir, 'seq.json')));
  queue.open();
  queue.append({ seq: queue.nextSeq(), windows: 1, readings: 1 }, 'batch');
  for (const random of [() => 0, () => 0.999]) {
    const sender = new Sender(queue, 1, 20_000, 100, 8_000, random);
    let last = 0;
    sender.due(0);
    for (let t = 100; t <= 200_000; t += 100) {
      if (sender.due(t).length === 0) continue;
      assert.ok(t - last >= 20_000, `resent after ${t - last} ms`);
      assert.ok(t - last <= 25_000 + 100, `resent after ${t - last} ms`);
      last = t;
    }
    assert.ok(last > 0);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('a failed send waits for Retry-After when it is longer than the backoff', () => {
  const { sender, cleanup } = setup(1, 1);
  sender.due(0);
  sender.failed(0, 50, 5000);
  assert.deepEqual(sender.due(4000), []);
  assert.deepEqual(
    sender.due(5050).map((b) => b.seq),
    [0],
  );
  cleanup();
});

test('after a disconnect everything unacked goes again at once', () => {
  const { sender, cleanup } = setup(3, 3);
  sender.due(0);
  sender.disconnected();
  assert.deepEqual(
    sender.due(1).map((b) => b.seq),
    [0, 1, 2],
    'without waiting for their ack timeout',
  );
  cleanup();
});
