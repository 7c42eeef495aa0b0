import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planLeases, startOf, targetShare, type LeaseView } from './assignment.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const view = (v: Partial<LeaseView> & Pick<LeaseView, 'me' | 'members'>): LeaseView => ({
  partitions: 64,
  leased: new Set(),
  owned: new Set(),
  ...v,
});

test('each member aims at ceil(P / members)', () => {
  for (const [members, share] of [
    [1, 64],
    [2, 32],
    [3, 22],
    [4, 16],
    [5, 13],
    [64, 1],
    [100, 1],
  ] as const)
    assert.equal(targetShare(64, members), share);
});

test('a member alone takes every free partition, starting at its place in the ring', () => {
  const plan = planLeases(view({ me: 'p1', members: ['p1'] }));
  assert.equal(plan.acquire.length, 64);
  assert.equal(plan.acquire[0], startOf('p1', 64));
  assert.deepEqual(
    [...plan.acquire].sort((a, b) => a - b),
    range(0, 64),
  );
});

test('a member counts itself before its heartbeat shows, and never tries a leased partition', () => {
  const plan = planLeases(view({ me: 'p3', members: ['p1', 'p2'], leased: new Set(range(0, 40)) }));
  assert.equal(plan.target, 22);
  assert.equal(plan.acquire.length, 22);
  assert.ok(plan.acquire.every((n) => n >= 40));
});

test('when a fourth member joins, each of three hands over only its excess; when one leaves, the rest take its share', () => {
  const owned = (from: number, to: number): Set<number> => new Set(range(from, to));
  const p1 = planLeases(
    view({ me: 'p1', members: ['p1', 'p2', 'p3', 'p4'], leased: owned(0, 64), owned: owned(0, 22) }),
  );
  assert.equal(p1.release.length, 6);
  assert.deepEqual(p1.acquire, []);
  const left = planLeases(view({ me: 'p2', members: ['p2', 'p3'], leased: owned(22, 64), owned: owned(22, 43) }));
  assert.equal(left.target, 32);
  assert.equal(left.acquire.length, 11);
  assert.ok(
    left.acquire.every((n) => n < 22),
    'only the partitions p1 left',
  );
});

test('a member keeps the partitions nearest its start and hands over those furthest along its ring', () => {
  const start = startOf('p1', 64);
  const mine = new Set(range(0, 64));
  const plan = planLeases(view({ me: 'p1', members: ['p1', 'p2'], leased: mine, owned: mine }));
  const kept = range(0, 64).filter((n) => !plan.release.includes(n));
  assert.equal(kept.length, 32);
  assert.ok(kept.includes(start));
  assert.ok(!plan.release.includes(start));
});
