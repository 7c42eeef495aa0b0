import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '@tributary/device-simulator';
import { waitFor } from '../harness/wait.js';
import { assertSeriesEqual, describeRun, FaultRig } from './rig.js';

const KILLS = 20;

test(`the edge agent is killed with SIGKILL at ${KILLS} random points under load: no reading it accepted is lost, none counted twice`, {
  timeout: 180_000,
}, async (t) => {
  const rig = await FaultRig.start(t, { devices: 30 });
  // The fleet plays until the last kill: each restart takes longer on a loaded machine, and a fleet
  // that had played its 40 s before the 20th kill sent none of the messages that kill waited for.
  await rig.play(150);
  // Kill points at random (seeded, so a failure replays): after a random number of further messages
  // has come in, anywhere in a window's life, a group commit or a seal.
  const rng = new Rng('agent-kill-random');
  let recovered = 0;
  for (let kill = 1; kill <= KILLS; kill++) {
    const more = rng.int(20, 600);
    const from = await rig.agent.metric('tributary_agent_messages_received_total');
    await waitFor(
      `the agent to take ${more} more messages`,
      async () => (await rig.agent.metric('tributary_agent_messages_received_total')) >= from + more,
      20_000,
      20,
    );
    await rig.agent.kill();
    await rig.agent.start();
    const put = rig.agent.logs('write-ahead log: put back the readings of windows not yet spooled')[0];
    recovered += Number(put?.readings ?? 0);
  }
  rig.stopPlaying();
  const r = await rig.finish();
  t.diagnostic(describeRun(`agent killed ${KILLS} times`, r, r.spooled, 0));
  t.diagnostic(
    `readings put back from the write-ahead log after the kills: ${recovered}; lost at a crash: ${r.agentCounters.readings_lost_at_crash ?? 0}; redelivered messages known from the log (last run): ${r.agentCounters.messages_redelivered_logged ?? 0}`,
  );
  assert.ok(recovered > 0, 'the kills left readings in open windows, which the log put back');
  assert.deepEqual(
    rig.observer.missingSeqs(),
    [],
    'batch seqs are contiguous across restarts: no spooled batch was lost',
  );
  assertSeriesEqual(r);
  assert.equal(r.spooled, r.sent, 'every reading sent is in exactly one spooled window: none lost, none twice');
});
