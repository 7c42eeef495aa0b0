import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dedupe } from './dedupe.js';

test('a written batch is a duplicate, an unseen one is not, in or out of order', () => {
  const d = new Dedupe(64);
  for (const seq of [0, 1, 2, 5, 4]) {
    assert.equal(d.seen('a', 1, seq), false);
    d.add('a', 1, seq);
  }
  for (const seq of [0, 1, 2, 4, 5]) assert.equal(d.seen('a', 1, seq), true, `seq ${seq}`);
  assert.equal(d.seen('a', 1, 3), false, 'the gap is not a duplicate');
  assert.equal(d.seen('b', 1, 0), false, 'agents are apart');
  assert.deepEqual(d.stats().find((s) => s.agent === 'a'), { agent: 'a', duplicates: 5, gaps: 1, maxSeq: 5 });
  d.add('a', 1, 3);
  assert.equal(d.stats().find((s) => s.agent === 'a')?.gaps, 0, 'a late batch fills its gap');
});

test('seqs older than the window count as written; memory stays one bitmap per agent', () => {
  const d = new Dedupe(64);
  for (let seq = 0; seq < 1000; seq += 2) d.add('a', 1, seq);
  assert.equal(d.seen('a', 1, 998), true);
  assert.equal(d.seen('a', 1, 997), false, 'inside the window and never written');
  assert.equal(d.seen('a', 1, 10), true, 'far below the window: treated as written');
  assert.equal(d.stats()[0]?.gaps, 499);
});

test('a new epoch (the agent’s state was wiped) starts its seqs afresh', () => {
  const d = new Dedupe(64);
  for (let seq = 0; seq < 100; seq++) d.add('a', 1000, seq);
  assert.equal(d.seen('a', 1000, 3), true);
  assert.equal(d.seen('a', 2000, 3), false, 'seq 3 of the new epoch is new data');
  d.add('a', 2000, 0);
  assert.equal(d.seen('a', 2000, 0), true);
  assert.equal(d.seen('a', 2000, 1), false);
});

test('snapshot and restore keep what was written', () => {
  const d = new Dedupe(128);
  for (const seq of [0, 1, 2, 7, 9]) d.add('gw', 5, seq);
  const again = new Dedupe(128);
  again.restore(JSON.parse(JSON.stringify(d.snapshot())));
  for (let seq = 0; seq < 12; seq++) assert.equal(again.seen('gw', 5, seq), [0, 1, 2, 7, 9].includes(seq), `seq ${seq}`);
});

test('at most maxAgents agents are kept; the least recently active goes first', () => {
  const d = new Dedupe(64, 2);
  d.add('a', 1, 0);
  d.add('b', 1, 0);
  d.add('a', 1, 1);
  d.add('c', 1, 0);
  assert.deepEqual(d.stats().map((s) => s.agent).sort(), ['a', 'c']);
});

test('an epoch far ahead of our clock or a huge seq jump is not trackable', () => {
  const now = 1_700_000_000_000;
  const d = new Dedupe(64, 100, 1000, 86_400_000);
  assert.equal(d.untrackable('a', now, 0, now), undefined);
  assert.match(d.untrackable('a', now + 2 * 86_400_000, 0, now) ?? '', /ahead of our clock/);
  d.add('a', now, 500);
  assert.equal(d.untrackable('a', now, 1500, now), undefined, 'exactly the largest jump allowed');
  assert.match(d.untrackable('a', now, 1501, now) ?? '', /jumps more than 1000 past the highest seen \(500\)/);
  assert.match(d.untrackable('b', now, 5000, now) ?? '', /past the highest seen \(-1\)/, 'a first batch is measured from nothing');
});
