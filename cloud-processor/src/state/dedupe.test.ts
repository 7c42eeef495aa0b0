import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Dedupe, MAX_STREAMS_PER_AGENT } from './dedupe.js';

const EPOCH = 1_700_000_000_000;

/** What the processor does with a batch: a duplicate is answered, anything else written and recorded. */
function deliver(
  d: Dedupe,
  agent: string,
  epoch: number,
  seq: number,
): { duplicate: boolean; apart: string | undefined } {
  if (d.seen(agent, epoch, seq)) return { duplicate: true, apart: undefined };
  return { duplicate: false, apart: d.add(agent, epoch, seq) };
}

test('a written batch is a duplicate, an unseen one is not, in or out of order', () => {
  const d = new Dedupe(64);
  for (const seq of [0, 1, 2, 5, 4]) {
    assert.equal(d.seen('a', 1, seq), false);
    d.add('a', 1, seq);
  }
  for (const seq of [0, 1, 2, 4, 5]) assert.equal(d.seen('a', 1, seq), true, `seq ${seq}`);
  assert.equal(d.seen('a', 1, 3), false, 'the gap is not a duplicate');
  assert.equal(d.seen('b', 1, 0), false, 'agents are apart');
  assert.deepEqual(
    d.stats().find((s) => s.agent === 'a'),
    { agent: 'a', duplicates: 5, gaps: 1, maxSeq: 5, streams: 1 },
  );
  d.add('a', 1, 3);
  assert.equal(d.stats().find((s) => s.agent === 'a')?.gaps, 0, 'a late batch fills its gap');
});

test('only a seq that was recorded is a duplicate: one below every window is new; memory stays one bitmap per stream', () => {
  const d = new Dedupe(64);
  for (let seq = 0; seq < 1000; seq += 2) d.add('a', 1, seq);
  assert.equal(d.seen('a', 1, 998), true);
  assert.equal(d.seen('a', 1, 997), false, 'inside the window and never written');
  assert.equal(
    d.seen('a', 1, 10),
    false,
    'far below the window: not known, so written again (InfluxDB overwrites the same points)',
  );
  assert.deepEqual(d.stats()[0], { agent: 'a', duplicates: 1, gaps: 499, maxSeq: 998, streams: 1 });
});

test('the issue’s case: a batch 99,000,000 seqs ahead is tracked apart and the real agent’s later batches are new', () => {
  const d = new Dedupe(1024);
  for (let seq = 0; seq <= 100; seq++) deliver(d, 'gw-a', EPOCH, seq);
  const forged = deliver(d, 'gw-a', EPOCH, 100 + 99_000_000);
  assert.equal(forged.duplicate, false);
  assert.equal(
    forged.apart,
    'seq 99000100 is 99000000 past the highest seq 100 of its stream in epoch 1700000000000 (dedupe.maxSeqGap 512, windowSize 1024): lost batches, or someone else posts as it',
  );
  for (let seq = 101; seq <= 3_000; seq++)
    assert.deepEqual(deliver(d, 'gw-a', EPOCH, seq), { duplicate: false, apart: undefined }, `real seq ${seq}`);
  assert.equal(d.seen('gw-a', EPOCH, 2_999), true, 'a re-send of a real batch is still recognised');
  assert.equal(d.seen('gw-a', EPOCH, 99_000_100), true, 'and so is one of the forged batch');
  assert.deepEqual(d.stats()[0], { agent: 'gw-a', duplicates: 2, gaps: 0, maxSeq: 3_000, streams: 2 });
});

test('a forged epoch 23 h ahead is tracked apart: the real epoch’s batches are still new, and their re-sends duplicates', () => {
  const d = new Dedupe(1024);
  for (let seq = 0; seq < 10; seq++) deliver(d, 'gw-a', EPOCH, seq);
  const forged = deliver(d, 'gw-a', EPOCH + 23 * 3_600_000, 0);
  assert.match(
    forged.apart ?? '',
    /^new epoch 1700082800000 \(tracked: 1700000000000\) at seq 0: its state was reset, or someone else posts as it$/,
  );
  assert.equal(d.seen('gw-a', EPOCH, 9), true, 'the real stream is still tracked');
  assert.deepEqual(deliver(d, 'gw-a', EPOCH, 10), { duplicate: false, apart: undefined });
  assert.equal(d.seen('gw-a', EPOCH, 10), true);
});

test('a new epoch (the agent’s state was wiped) starts its seqs afresh, beside the old one', () => {
  const d = new Dedupe(64);
  for (let seq = 0; seq < 100; seq++) d.add('a', 1000, seq);
  assert.equal(d.seen('a', 2000, 3), false, 'seq 3 of the new epoch is new data');
  assert.match(d.add('a', 2000, 0) ?? '', /new epoch 2000/);
  assert.equal(d.seen('a', 2000, 0), true);
  assert.equal(d.seen('a', 2000, 1), false);
  assert.equal(d.seen('a', 1000, 99), true, 'a straggler of the old epoch is still known');
});

test('a jump within maxSeqGap stays in the stream (counted as missing seqs); a longer one is tracked apart', () => {
  const d = new Dedupe(64, 100, 32);
  d.add('a', 1, 0);
  assert.equal(d.add('a', 1, 32), undefined);
  assert.equal(d.stats()[0]?.gaps, 31);
  assert.match(d.add('a', 1, 65) ?? '', /^seq 65 is 33 past the highest seq 32 /);
  assert.match(d.add('a', 1, 65 + 64 + 64) ?? '', /^seq 193 is 128 past the highest seq 65 /);
  assert.match(d.add('a', 1, 100) ?? '', /^seq 100 is 35 past the highest seq 65 /, 'measured from the nearest stream');
  assert.throws(() => new Dedupe(64, 100, 33), /maxSeqGap 33 is over half the window/);
});

test('streams per agent are bounded: the least recently used goes', () => {
  const d = new Dedupe(64);
  for (let i = 0; i < MAX_STREAMS_PER_AGENT + 2; i++) d.add('a', 1, i * 1_000_000);
  assert.equal(d.stats()[0]?.streams, MAX_STREAMS_PER_AGENT);
  assert.equal(d.seen('a', 1, 0), false, 'the oldest stream was dropped');
  assert.equal(d.seen('a', 1, (MAX_STREAMS_PER_AGENT + 1) * 1_000_000), true);
});

test('snapshot and restore keep what was written, stream by stream', () => {
  const d = new Dedupe(128);
  for (const seq of [0, 1, 2, 7, 9, 50_000]) d.add('gw', 5, seq);
  d.add('gw', 6, 3);
  const again = new Dedupe(128);
  assert.equal(again.restore(JSON.parse(JSON.stringify(d.snapshot()))), 2);
  assert.deepEqual(again.stats(), d.stats());
  for (let seq = 0; seq < 12; seq++)
    assert.equal(again.seen('gw', 5, seq), [0, 1, 2, 7, 9].includes(seq), `seq ${seq}`);
  assert.equal(again.seen('gw', 5, 50_000), true);
  assert.equal(again.seen('gw', 6, 3), true);
});

test('a version 1 state file still loads; one poisoned by a forged seq no longer drops the real agent’s batches', () => {
  // As version 1 wrote it: an object keyed by agent (bit i: seq max − i written).
  const bits = Buffer.alloc(128);
  bits[0] = 0b1011; // seqs 9, 8 and 6
  const v1 = {
    gw: { epoch: 5, max: 9, bits: bits.toString('base64'), duplicates: 2, gaps: 1 },
    v: { epoch: 5, max: 3, bits: Buffer.from([1]).toString('base64'), duplicates: 0, gaps: 0 },
    'gw-a': {
      epoch: EPOCH,
      max: 1_000 + 99_000_000,
      bits: Buffer.from([1]).toString('base64'),
      duplicates: 0,
      gaps: 0,
    },
  };
  const d = new Dedupe(1024);
  assert.equal(d.restore(JSON.parse(JSON.stringify(v1))), 1);
  assert.deepEqual(
    [6, 7, 8, 9].map((seq) => d.seen('gw', 5, seq)),
    [true, false, true, true],
  );
  assert.equal(d.seen('v', 5, 3), true, 'an agent called "v"');
  assert.equal(d.seen('gw-a', EPOCH, 1_001), false, 'the real gw-a’s next batch is new');
  assert.match(d.add('gw-a', EPOCH, 1_001) ?? '', /^seq 1001 is 98999999 below the highest seq 99001000 /);
  assert.equal(new Dedupe(64).restore({ v: 3, agents: [] }), undefined, 'a newer format is not guessed at');
});

test('at most maxAgents agents are kept; the least recently active goes first', () => {
  const d = new Dedupe(64, 2);
  d.add('a', 1, 0);
  d.add('b', 1, 0);
  d.add('a', 1, 1);
  d.add('c', 1, 0);
  assert.deepEqual(
    d
      .stats()
      .map((s) => s.agent)
      .sort(),
    ['a', 'c'],
  );
});

// Property tests. The honest agent sends seqs in order from `start` (with occasional skips, as after
// a crash), re-sending some; hostile batches claim its name with any epoch and seq but its own.

const honestSteps = fc.array(
  fc.oneof({ weight: 20, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 20_000 }) }),
  { minLength: 1, maxLength: 300 },
);
const hostileBatch = fc.record({
  epoch: fc.oneof(
    fc.constant(EPOCH),
    fc.constant(EPOCH + 1),
    fc.constant(EPOCH + 23 * 3_600_000),
    fc.integer({ min: 0, max: 2 ** 45 }),
  ),
  /** Relative to the honest agent's front when it is sent. */
  offset: fc.oneof(
    fc.integer({ min: -3_000, max: 3_000 }),
    fc.integer({ min: 1_000, max: 2 ** 40 }),
    fc.integer({ min: -(2 ** 20), max: 0 }),
  ),
  at: fc.nat(),
});
const sizes = fc.constantFrom({ window: 64, gap: 32 }, { window: 64, gap: 1 }, { window: 1024, gap: 512 });

/** The honest seqs from `start` by `steps`. */
const honestSeqs = (start: number, steps: readonly number[]): number[] =>
  steps.reduce<number[]>((seqs, step) => [...seqs, (seqs.at(-1) ?? start - 1) + step], []);

test('property: no sequence of hostile batches makes a later honest batch look like a duplicate (with restarts)', () => {
  fc.assert(
    fc.property(
      sizes,
      fc.integer({ min: 0, max: 10_000 }),
      honestSteps,
      fc.array(hostileBatch, { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 3 }),
      ({ window, gap }, start, steps, hostile, restarts) => {
        const honest = honestSeqs(start, steps);
        const honestSet = new Set(honest);
        let d = new Dedupe(window, 100, gap);
        const byStep = new Map<number, typeof hostile>();
        for (const h of hostile) byStep.set(h.at % honest.length, [...(byStep.get(h.at % honest.length) ?? []), h]);
        const restartAt = new Set(restarts.map((r) => r % honest.length));
        for (const [i, seq] of honest.entries()) {
          for (const h of byStep.get(i) ?? []) {
            const forgedSeq = Math.max(0, seq + h.offset);
            if (h.epoch === EPOCH && honestSet.has(forgedSeq)) continue; // the same key is the same batch: only a token tells them apart
            deliver(d, 'gw-a', h.epoch, forgedSeq);
          }
          if (restartAt.has(i)) {
            const again = new Dedupe(window, 100, gap);
            again.restore(JSON.parse(JSON.stringify(d.snapshot())));
            d = again;
          }
          assert.equal(d.seen('gw-a', EPOCH, seq), false, `honest seq ${seq} taken for a duplicate`);
          d.add('gw-a', EPOCH, seq);
          if (i > 0 && seq % 3 === 0) deliver(d, 'gw-a', EPOCH, honest[i - 1]!); // a re-send
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('property: after any one hostile batch, re-sends of the honest agent’s recent batches are still duplicates', () => {
  fc.assert(
    fc.property(
      sizes,
      fc.integer({ min: 0, max: 10_000 }),
      honestSteps,
      hostileBatch,
      ({ window, gap }, start, steps, h) => {
        // At most two skips past maxSeqGap (each starts a stream), so with the hostile one no stream is evicted.
        let skips = 0;
        const honest = honestSeqs(
          start,
          steps.filter((s) => s <= gap || ++skips <= 2),
        );
        const honestSet = new Set(honest);
        const d = new Dedupe(window, 100, gap);
        const at = h.at % honest.length;
        for (const [i, seq] of honest.entries()) {
          const forgedSeq = Math.max(0, seq + h.offset);
          if (i === at && !(h.epoch === EPOCH && honestSet.has(forgedSeq))) deliver(d, 'gw-a', h.epoch, forgedSeq);
          assert.deepEqual(deliver(d, 'gw-a', EPOCH, seq).duplicate, false);
          for (const recent of honest.slice(Math.max(0, i - 7), i + 1))
            assert.equal(d.seen('gw-a', EPOCH, recent), true, `re-send of ${recent} after ${seq}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});
