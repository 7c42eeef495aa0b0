import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../harness/wait.js';
import { ClusterRig } from './rig.js';

test('a fourth processor joins and one leaves gracefully: partitions move with nothing replayed, lost or doubled (one agent over HTTP)', {
  timeout: 120_000,
}, async (t) => {
  const rig = await ClusterRig.start(t, { processors: 3 });
  await rig.waitAllOwned(['p1', 'p2', 'p3'], 20_000);
  await rig.startAgents(6, { devices: 3, hours: 3, httpVia: { member: 'p3', agents: 1 } });
  await waitFor('batches acked before the join', () => rig.acked >= 40, 30_000, 100);
  await rig.addProcessor('p4');
  const joined = await waitFor(
    'p4 to own its share (ceil(64 / 4) = 16) and every partition to be owned',
    async () => {
      const owners = await rig.ownership(['p1', 'p2', 'p3', 'p4']);
      const p4 = [...owners.values()].filter((m) => m === 'p4').length;
      return owners.size === 64 && p4 === 16 ? owners : undefined;
    },
    20_000,
    100,
  );
  const acked = rig.acked;
  await waitFor('more batches acked after the join', () => rig.acked >= acked + 40, 30_000, 100);
  const p1Share = [...joined.values()].filter((m) => m === 'p1').length;
  await rig.processor('p1').stop();
  const after = await rig.waitAllOwned(['p2', 'p3', 'p4'], 20_000);
  t.diagnostic(
    `p4 took 16 partitions on joining; p1 handed over ${p1Share} on leaving: now ${[2, 3, 4].map((i) => [...after.values()].filter((m) => m === `p${i}`).length).join('/')}`,
  );
  const { accepted, perSeriesInflux } = await rig.finish();
  rig.assertDeliveredExactly({ accepted, perSeriesInflux });
  const views = await Promise.all(['p2', 'p3', 'p4'].map((m) => rig.view(m)));
  const sum = (name: string): number => views.reduce((n, v) => n + (v.counters[name] ?? 0), 0);
  t.diagnostic(
    `acquired ${sum('partitions_acquired')}, released ${sum('partitions_released')}, taken over ${sum('partitions_taken_over')}, replayed ${sum('batches_replayed')}, snapshots ${sum('snapshots_written')}`,
  );
  assert.equal(sum('snapshots_unreadable'), 0, 'every snapshot was restored');
  assert.equal(sum('partitions_taken_over'), 0, 'every move was a graceful hand-over');
  assert.equal(
    sum('batches_replayed'),
    0,
    'a graceful hand-over replays nothing (its final snapshot is at the last acked batch)',
  );
  rig.assertNoAlertOpenedTwice();
});
