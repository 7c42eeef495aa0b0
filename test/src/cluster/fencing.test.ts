import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHECKPOINTS_BUCKET } from '@tributary/cloud-processor';
import { connect } from 'nats';
import { waitFor } from '../harness/wait.js';
import { ClusterRig } from './rig.js';

test('a paused owner resumed after its leases expired cannot overwrite the new owners’ state: its writes are refused and counted', {
  timeout: 120_000,
}, async (t) => {
  const rig = await ClusterRig.start(t, { processors: 3 });
  // Once settled: a member that still hands partitions over would be paused with fewer than it had.
  const before = await rig.waitBalanced(['p1', 'p2', 'p3'], 30_000);
  const paused = [...before].filter(([, m]) => m === 'p2').map(([n]) => n);
  await rig.startAgents(6, { devices: 3, hours: 3 });
  await waitFor('batches acked before the pause', () => rig.acked >= 60, 30_000, 100);
  rig.processor('p2').signal('SIGSTOP');
  await rig.waitAllOwned(['p1', 'p3'], 10_000);
  const nc = await connect({ servers: rig.nats.url });
  t.after(() => nc.close());
  const records = await nc.jetstream().views.kv(CHECKPOINTS_BUCKET, { bindOnly: true });
  const record = async (n: number): Promise<{ owner: string; epoch: number }> =>
    (await records.get(`c.${n}`))!.json<{ owner: string; epoch: number }>();
  const fenced = new Map<number, { owner: string; epoch: number }>();
  for (const n of paused) fenced.set(n, await record(n));
  assert.ok(
    [...fenced.values()].every((r) => r.owner !== 'p2'),
    'the new owners fenced every partition of p2',
  );
  rig.processor('p2').signal('SIGCONT');
  // One refusal per partition: its next commit, or the last snapshot it tries when it finds its lease gone.
  await waitFor(
    'p2 to have a write refused for each of its partitions',
    async () =>
      (await rig.processor('p2').metric('tributary_cloud_cluster_checkpoint_writes_refused_total')) >= paused.length,
    10_000,
    100,
  );
  const refused = await rig.processor('p2').metric('tributary_cloud_cluster_checkpoint_writes_refused_total');
  assert.equal(refused, paused.length, 'each partition stopped at its first refused write');
  for (const n of paused) {
    const now = await record(n);
    const then = fenced.get(n)!;
    // p2 may own it again by now, but only through a new lease and a new fence (a higher epoch).
    assert.ok(
      now.owner !== 'p2' || now.epoch > then.epoch,
      `partition ${n}: p2 did not overwrite ${then.owner}'s record (epoch ${then.epoch}), now ${now.owner} epoch ${now.epoch}`,
    );
  }
  const { accepted, perSeriesInflux } = await rig.finish();
  t.diagnostic(`p2 paused with ${paused.length} partitions; on resuming ${refused} of its writes were refused`);
  rig.assertDeliveredExactly({ accepted, perSeriesInflux });
  rig.assertNoAlertOpenedTwice();
});
