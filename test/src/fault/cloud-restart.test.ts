import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../harness/wait.js';
import { assertSeriesEqual, describeRun, FaultRig } from './rig.js';

test('the cloud processor is killed with SIGKILL mid-run and restarted: zero lost, zero counted twice', {
  timeout: 120_000,
}, async (t) => {
  const rig = await FaultRig.start(t);
  // The fleet plays until the processor is back (stopped below), so a loaded machine that is slow
  // to write the first batches cannot run the fleet out before the spool has piled up.
  await rig.play(60);
  await waitFor(
    'some batches written',
    async () => (await rig.cloud.metric('tributary_cloud_batches_written_total')) >= 3,
    20_000,
  );
  await rig.cloud.kill();
  await waitFor(
    'batches to pile up in the agent’s spool',
    async () => (await rig.agent.metric('tributary_agent_queued_batches')) >= 3,
    20_000,
  );
  await rig.cloud.start();
  rig.stopPlaying();
  const r = await rig.finish();
  const accepted = r.agentCounters.readings_accepted!;
  t.diagnostic(describeRun('cloud killed and restarted', r, accepted, r.agentCounters.readings_dropped ?? 0));
  assertSeriesEqual(r);
  assert.equal(r.spooled, accepted, 'every reading the agent accepted was spooled and sent');
  assert.equal(r.inInflux, accepted, 'and is in InfluxDB exactly once');
  assert.equal(r.agentCounters.readings_dropped ?? 0, 0);
});

test('the cloud processor stays down for a minute: the agent spools, then everything arrives once', {
  timeout: 180_000,
}, async (t) => {
  const rig = await FaultRig.start(t);
  await rig.play(75);
  await waitFor(
    'some batches written',
    async () => (await rig.cloud.metric('tributary_cloud_batches_written_total')) >= 3,
    20_000,
  );
  await rig.cloud.kill();
  const downSince = Date.now();
  await waitFor('a minute to pass', () => Date.now() - downSince >= 60_000, 70_000, 1000);
  const spooled = await rig.agent.metric('tributary_agent_queued_batches');
  assert.ok(spooled > 50, `the agent kept its batches in the spool meanwhile (${spooled})`);
  await rig.cloud.start();
  const r = await rig.finish();
  const accepted = r.agentCounters.readings_accepted!;
  t.diagnostic(describeRun('cloud down for a minute', r, accepted, r.agentCounters.readings_dropped ?? 0));
  assertSeriesEqual(r);
  assert.equal(r.inInflux, accepted);
});
