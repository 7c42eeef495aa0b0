import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentHealthReasons, type AgentHealthInputs } from './health.js';

const healthy: AgentHealthInputs = {
  uplinkDownSinceMs: undefined,
  oldestUnackedMs: 0,
  ackTimeoutMs: 15_000,
  spoolFill: 0.1,
  spoolOnFull: 'drop-oldest',
};
const now = 5_000_000;

const cases: Array<{ name: string; inputs: Partial<AgentHealthInputs>; reasons: RegExp[] }> = [
  { name: 'all well', inputs: {}, reasons: [] },
  { name: 'uplink down a moment', inputs: { uplinkDownSinceMs: now - 2_000 }, reasons: [] },
  {
    name: 'uplink down past ackTimeoutMs',
    inputs: { uplinkDownSinceMs: now - 40_000 },
    reasons: [/not connected to the cloud for 40 s/],
  },
  {
    name: 'connected, but the cloud does not ack',
    inputs: { oldestUnackedMs: 60_000 },
    reasons: [/oldest unacked batch has waited 60 s/],
  },
  {
    name: 'spool nearly full (drop-oldest)',
    inputs: { spoolFill: 0.95 },
    reasons: [/spool 95% full; at its bound the oldest batches are dropped/],
  },
  {
    name: 'spool full (reject-new)',
    inputs: { spoolFill: 1, spoolOnFull: 'reject-new' },
    reasons: [/new batches are dropped/],
  },
  {
    name: 'each reason named',
    inputs: { uplinkDownSinceMs: now - 100_000, oldestUnackedMs: 100_000, spoolFill: 0.92 },
    reasons: [/not connected/, /oldest unacked/, /spool 92%/],
  },
];

for (const c of cases) {
  test(`agent /health reasons: ${c.name}`, () => {
    const reasons = agentHealthReasons({ ...healthy, ...c.inputs }, now);
    assert.equal(reasons.length, c.reasons.length, reasons.join('; '));
    c.reasons.forEach((r, i) => assert.match(reasons[i]!, r));
  });
}
