import { test } from 'node:test';
import { waitFor } from '../harness/wait.js';
import { ClusterRig } from './rig.js';

test('nats-server is killed with SIGKILL mid-run and restarted on its file store: processing resumes and nothing acked is lost', {
  timeout: 120_000,
}, async (t) => {
  const rig = await ClusterRig.start(t, { processors: 2 });
  await rig.waitAllOwned(['p1', 'p2'], 20_000);
  await rig.startAgents(4, { devices: 3, hours: 3 });
  await waitFor('batches acked before the kill', () => rig.acked >= 60, 30_000, 100);
  await rig.nats.kill();
  const acked = rig.acked;
  await waitFor(
    'both members to see NATS gone',
    async () => {
      const health = await Promise.all(
        ['p1', 'p2'].map(async (m) => (await fetch(`${rig.processor(m).url}/health`)).status),
      );
      return health.every((s) => s === 503);
    },
    10_000,
    100,
  );
  await rig.nats.restart();
  await rig.waitAllOwned(['p1', 'p2'], 20_000);
  await waitFor('batches acked after the restart', () => rig.acked >= acked + 40, 30_000, 100);
  const { accepted, perSeriesInflux } = await rig.finish();
  rig.assertDeliveredExactly({ accepted, perSeriesInflux });
  rig.assertNoAlertOpenedTwice();
});
