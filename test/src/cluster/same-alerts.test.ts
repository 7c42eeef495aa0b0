import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertEvent } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { batchQueues, publishAll } from '../harness/batch-player.js';
import { waitFor } from '../harness/wait.js';
import { WindowBatches } from '../harness/window-batches.js';
import { ClusterRig } from './rig.js';

/** Every alert transition of a run, as comparable lines, sorted. */
const transitions = (alerts: readonly AlertEvent[]): string[] =>
  alerts.map((a) => `${a.id} ${a.state} at ${a.at} ${a.severity} ${a.score.toFixed(6)}`).sort();

test('detection with one processor and with three (and a fourth joining halfway) gives the same alerts for the same batches', {
  timeout: 120_000,
}, async (t) => {
  const runs: string[][] = [];
  for (const processors of [1, 3]) {
    const rig = await ClusterRig.start(t, { processors, snapshotIntervalMs: 2_000 });
    const members = Array.from({ length: processors }, (_, i) => `p${i + 1}`);
    await rig.waitAllOwned(members, 20_000);
    // The same batches each run: 8 agents, 60 series, 160 one-minute windows each, spikes now and then.
    const gen = new WindowBatches({
      series: 60,
      agents: 8,
      windowMs: 60_000,
      readingsPerWindow: 30,
      startMs: Date.UTC(2026, 0, 5),
      seed: 5,
      spikeChance: 0.01,
    });
    const client = await mqtt.connectAsync(rig.nats.mqttUrl, { clientId: `player-${processors}`, clean: true });
    await client.subscribeAsync('tributary/v1/agents/+/acks', { qos: 1 });
    await publishAll(client, batchQueues(gen, 80), 4);
    if (processors > 1) {
      // Halfway, a fourth member joins: 16 partitions move, state handed over in snapshots.
      await rig.addProcessor('p4');
      members.push('p4');
      await waitFor('p4 to own 16 partitions', async () => (await rig.view('p4')).owned.length === 16, 20_000, 100);
    }
    await publishAll(client, batchQueues(gen, 80), 4);
    await client.endAsync();
    let last = -1;
    await waitFor(
      'the alert transitions to stop arriving',
      () => {
        const stable = rig.alerts.length === last;
        last = rig.alerts.length;
        return stable;
      },
      10_000,
      500,
    );
    const views = await Promise.all(members.map((m) => rig.view(m)));
    t.diagnostic(
      `${processors} processor(s): ${rig.alerts.length} alert transitions, ${rig.alerts.filter((a) => a.state === 'opened').length} opened; partitions handed over ${views.reduce((n, v) => n + (v.counters.partitions_released ?? 0), 0)}, snapshots ${views.reduce((n, v) => n + (v.counters.snapshots_written ?? 0), 0)}`,
    );
    assert.equal(
      views.reduce((n, v) => n + (v.counters.snapshots_unreadable ?? 0), 0),
      0,
      'every snapshot was restored',
    );
    runs.push(transitions(rig.alerts));
    await rig.stop();
  }
  assert.ok(runs[0]!.length > 10, `the batches raise alerts (${runs[0]!.length} transitions)`);
  assert.deepEqual(runs[1], runs[0]);
});
