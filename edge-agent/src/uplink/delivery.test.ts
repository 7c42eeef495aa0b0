import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Counters, ManualClock, ProblemReport, silentLogger } from '@tributary/runtime';
import { agentCounterHelp, type AgentCounter } from '../core/counters.js';
import { MemoryBatchQueue } from '../spool/memory-queue.js';
import { SeqStore } from '../spool/seq-store.js';
import { Delivery } from './delivery.js';
import type { TransportEvents, UplinkTransport } from './transport.js';

/** A transport that records what it was asked to send (the delivery core is what is tested). */
class RecordingTransport implements UplinkTransport {
  readonly sent: number[] = [];
  events: TransportEvents | undefined;
  get connected(): boolean {
    return true;
  }
  start(events: TransportEvents): void {
    this.events = events;
  }
  send(seq: number): void {
    this.sent.push(seq);
  }
  async stop(): Promise<void> {}
}

function setup(
  t: import('node:test').TestContext,
  maxBatches = 20_000,
  onFull: 'drop-oldest' | 'reject-new' = 'drop-oldest',
) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-delivery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const queue = new MemoryBatchQueue(maxBatches, onFull, new SeqStore(join(dir, 'seq.json')));
  const transport = new RecordingTransport();
  const counters = new Counters<AgentCounter>(agentCounterHelp);
  const clock = new ManualClock(0);
  const delivery = new Delivery(
    queue,
    transport,
    { maxInFlight: 4, ackTimeoutMs: 1000, backoff: { initialMs: 100, maxMs: 1000 } },
    counters,
    new ProblemReport(),
    clock,
    silentLogger,
  );
  delivery.open();
  delivery.start();
  t.after(() => delivery.stop());
  const add = (): number => {
    const seq = delivery.nextSeq();
    delivery.enqueue({ seq, windows: 1, readings: 5 }, `batch ${seq}`);
    return seq;
  };
  return { queue, delivery, counters, transport, add, clock };
}

test('acks of another epoch (the gateway’s state before a wipe) do not delete batches', (t) => {
  const { delivery, queue, add } = setup(t);
  const seq = add();
  delivery.answered({ v: 1, agent: 'a', epoch: queue.epoch + 1, seq, status: 'ok' });
  assert.equal(queue.size, 1);
  delivery.answered({ v: 1, agent: 'a', epoch: queue.epoch, seq, status: 'ok' });
  assert.equal(queue.size, 0);
});

test('a batch the cloud never answers while it acks 10,000 later ones is dropped and counted', (t) => {
  const { delivery, queue, counters, add } = setup(t);
  const stuck = add();
  for (let i = 0; i < 10_002; i++) {
    const seq = add();
    delivery.answered({ v: 1, agent: 'a', seq, status: 'ok' });
  }
  assert.equal(queue.size, 0);
  assert.equal(counters.get('batches_abandoned'), 1);
  assert.equal(counters.get('readings_abandoned'), 5);
  assert.equal(counters.get('windows_abandoned'), 1);
  assert.ok(stuck < 10_000);
});

test('a batch dropped at the spool bound counts its windows: those of glitches only (count 0) hold no reading to count', (t) => {
  const { delivery, counters, add } = setup(t, 1, 'reject-new');
  add(); // sent at once, held until acked: the spool is full
  // Windows of out-of-range readings only, each count 0 and its outOfRange.
  delivery.enqueue({ seq: delivery.nextSeq(), windows: 3, readings: 0 }, 'glitches only');
  assert.deepEqual(
    ['batches_dropped', 'readings_dropped', 'windows_dropped', 'windows_dropped_unsent'].map((c) =>
      counters.get(c as AgentCounter),
    ),
    [1, 0, 3, 3],
  );
});

test('a batch sent again, after its ack timeout or after a reconnect, counts as a resend', (t) => {
  const { delivery, counters, transport, add, clock } = setup(t);
  add();
  add();
  assert.deepEqual(transport.sent, [0, 1]);
  delivery.disconnected();
  delivery.connected();
  assert.deepEqual(transport.sent, [0, 1, 0, 1], 'everything unacked goes again at once on reconnect');
  delivery.answered({ v: 1, agent: 'a', seq: 0, status: 'ok' });
  clock.advance(1_251); // past the ack timeout (jittered within [1000, 1250] ms)
  add();
  assert.deepEqual(transport.sent, [0, 1, 0, 1, 1, 2]);
  assert.deepEqual([counters.get('batches_sent'), counters.get('batches_resent')], [6, 3]);
});
