import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ack } from '@tributary/firmware-schemas';
import { Intake, Pipelined } from './intake.js';

const ack = (seq: number): Ack => ({ v: 1, agent: 'a', seq, status: 'ok' });

test('batches are processed one at a time in arrival order', async () => {
  const order: number[] = [];
  const intake = new Intake(10, 1 << 20, async (p) => {
    order.push(p[0]!);
    return ack(p[0]!);
  });
  const acks = await Promise.all([1, 2, 3].map((n) => intake.admit(Uint8Array.of(n), 'a').ack));
  assert.deepEqual(order, [1, 2, 3]);
  assert.deepEqual(
    acks.map((a) => a?.seq),
    [1, 2, 3],
  );
});

test('a full backlog holds admission until the writer catches up, and refuses tryAdmit', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const intake = new Intake(2, 1 << 20, async (p) => {
    await gate;
    return ack(p[0]!);
  });
  const first = intake.admit(Uint8Array.of(1), 'a'); // being processed
  await first.admitted;
  const queued = [intake.admit(Uint8Array.of(2), 'a'), intake.admit(Uint8Array.of(3), 'a')];
  await Promise.all(queued.map((q) => q.admitted));
  assert.equal(intake.tryAdmit(Uint8Array.of(9), 'a'), undefined, 'full: HTTP gets a 503');
  let fourthAdmitted = false;
  const fourth = intake.admit(Uint8Array.of(4), 'a');
  void fourth.admitted.then(() => (fourthAdmitted = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(fourthAdmitted, false, 'MQTT stops reading while the backlog is full');
  assert.equal(intake.backlog, 3);
  release();
  await fourth.admitted;
  assert.deepEqual(
    (await Promise.all([first.ack, ...queued.map((q) => q.ack), fourth.ack])).map((a) => a?.seq),
    [1, 2, 3, 4],
  );
});

test('stop refuses what is queued, so nothing unwritten is acked', async () => {
  const intake = new Intake(10, 1 << 20, () => new Promise<Ack | undefined>(() => undefined));
  intake.admit(Uint8Array.of(1), 'a');
  const waiting = intake.admit(Uint8Array.of(2), 'a');
  intake.stop(new Error('stopping'));
  await assert.rejects(waiting.ack, /stopping/);
});

test('a pipelining handler: the next batch starts once `next` settles, before the earlier acks', async () => {
  const started: number[] = [];
  const acks: Array<(a: Ack) => void> = [];
  let room!: () => void;
  let roomy = Promise.resolve();
  const intake = new Intake(10, 1 << 20, (p) => {
    started.push(p[0]!);
    const ack = new Promise<Ack | undefined>((r) => acks.push(r));
    return new Pipelined(roomy, ack);
  });
  const batches = [1, 2, 3].map((n) => intake.admit(Uint8Array.of(n), 'a'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [1, 2, 3], 'all three handed on while none is acked');
  assert.equal(intake.inFlight, 3);
  roomy = new Promise<void>((r) => (room = r)); // the write backlog is full from the next batch on
  const fourth = intake.admit(Uint8Array.of(4), 'a');
  const fifth = intake.admit(Uint8Array.of(5), 'a');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [1, 2, 3, 4], 'the fifth waits for room');
  room();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [1, 2, 3, 4, 5]);
  acks.forEach((r, i) => r(ack(i + 1)));
  assert.deepEqual(
    (await Promise.all([...batches, fourth, fifth].map((b) => b.ack))).map((a) => a?.seq),
    [1, 2, 3, 4, 5],
  );
  assert.equal(intake.inFlight, 0);
});
