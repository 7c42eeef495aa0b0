import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '@tributary/device-simulator';
import { waitFor } from '../harness/wait.js';
import { assertSeriesEqual, describeRun, FaultRig } from './rig.js';

test('the edge agent is killed with SIGKILL at several points and restarted: nothing it accepted is lost, nothing doubled', {
  timeout: 120_000,
}, async (t) => {
  const rig = await FaultRig.start(t);
  // The fleet plays until the last kill (stopped below): the kills wait for batches sealed after
  // each restart, which take longer to come on a loaded machine.
  await rig.play(120);
  const rng = new Rng('agent-kill');
  // Kill points chosen at random among the batches the agent seals (seeded, so a failure replays).
  for (let kill = 1; kill <= 3; kill++) {
    const sealed = rng.int(3, 8);
    await waitFor(
      `the agent to seal ${sealed} batches`,
      async () => (await rig.agent.metric('tributary_agent_batches_sealed_total')) >= sealed,
      20_000,
    );
    if (kill === 2) {
      // Once with the cloud away, so the spool surely holds unacked batches when the agent dies.
      await rig.cloud.kill();
      await waitFor(
        'unacked batches in the spool',
        async () => (await rig.agent.metric('tributary_agent_queued_batches')) >= 2,
        20_000,
      );
    }
    await rig.agent.kill();
    await rig.agent.start();
    if (kill === 2) {
      assert.equal(
        rig.agent.logs('spool: re-sending batches the cloud had not acked').length,
        1,
        'the restarted agent re-sends what its spool held',
      );
      await rig.cloud.start();
    }
  }
  rig.stopPlaying();
  const r = await rig.finish();
  t.diagnostic(describeRun('agent killed 3 times', r, r.spooled, 0));
  t.diagnostic(
    `readings lost in windows still open at the kills (never spooled) or sent while the agent was down: ${r.sent - r.spooled}`,
  );
  assert.deepEqual(
    rig.observer.missingSeqs(),
    [],
    'batch seqs are contiguous across restarts: no spooled batch was lost',
  );
  assertSeriesEqual(r);
  // The write-ahead log put the open windows back, and the broker kept what came while it was down.
  assert.equal(r.spooled, r.sent, 'every reading sent is in a spooled window');
  assert.equal(r.agentCounters.wal_readings_unprotected ?? 0, 0);
});
