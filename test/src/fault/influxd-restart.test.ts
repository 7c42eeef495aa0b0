import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../harness/wait.js';
import { assertSeriesEqual, describeRun, FaultRig } from './rig.js';

test('influxd is killed with SIGKILL mid-run and restarted: zero lost, zero duplicated', {
  timeout: 120_000,
}, async (t) => {
  const rig = await FaultRig.start(t);
  await rig.play(15);
  await waitFor(
    'some batches written',
    async () => (await rig.cloud.metric('tributary_cloud_batches_written_total')) >= 3,
    20_000,
  );
  await rig.influxd.kill();
  await waitFor(
    'the cloud to retry writes it cannot make',
    async () => (await rig.cloud.metric('tributary_cloud_write_retries_total')) >= 3,
    20_000,
  );
  const acksBefore = await rig.cloud.metric('tributary_cloud_acks_sent_total');
  const writtenBefore = await rig.cloud.metric('tributary_cloud_batches_written_total');
  await waitFor(
    'a few more retries',
    async () => (await rig.cloud.metric('tributary_cloud_write_retries_total')) >= 6,
    20_000,
  );
  assert.equal(
    await rig.cloud.metric('tributary_cloud_acks_sent_total'),
    acksBefore,
    'no ack while nothing can be written',
  );
  assert.equal(await rig.cloud.metric('tributary_cloud_batches_written_total'), writtenBefore);
  await rig.influxd.restart();
  const r = await rig.finish();
  const accepted = r.agentCounters.readings_accepted!;
  t.diagnostic(describeRun('influxd killed and restarted', r, accepted, r.agentCounters.readings_dropped ?? 0));
  assertSeriesEqual(r);
  assert.equal(r.inInflux, accepted);
});
