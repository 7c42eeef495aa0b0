import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { DetectionPool } from '../detect/shards/pool.js';
import { sensorWindows } from '../detect/synthetic.js';
import type { SeriesInput } from '../detect/detection.js';
import { Outputs } from '../outputs.js';
import { createPartition, type PartitionState } from '../partition.js';
import { encodeSnapshot, restoreSnapshot } from './snapshot.js';

const config = ProcessorConfigSchema.parse({ stateDir: '/nonexistent/tributary-test' });
const W = 300_000;

/** Detection worker threads for the partitions of the tests that use them (as a cluster member shares them). */
const pool = new DetectionPool(2, silentLogger);
test.after(() => pool.close());

function partition(workers: DetectionPool | undefined): { state: PartitionState; alerts: AlertEvent[] } {
  const alerts: AlertEvent[] = [];
  return {
    state: createPartition(
      config,
      new Outputs(config, silentLogger),
      { maxSeries: 100, maxSeriesKey: 'test' },
      (a) => alerts.push(a),
      workers,
    ),
    alerts,
  };
}

/** Two agents' windows by period: six series, one spiking, one going silent for a while. */
function periods(): SeriesInput[][] {
  const series = Array.from({ length: 6 }, (_, s) =>
    sensorWindows({
      seed: 20 + s,
      windows: 300,
      dailyAmplitude: 3,
      noise: 0.1,
      readingsPerWindow: 20,
      fault: (w, r, x) => (s === 2 && w >= 210 && w < 214 && r === 3 ? x + 8 : x),
      missing: (w) => s === 4 && w >= 180 && w < 190,
    }).map((p) => ({ ...p, device: `dev-${s}`, metric: 'temperature', lengthMs: W })),
  );
  return Array.from({ length: 300 }, (_, w) =>
    series.flatMap((points) => points.filter((p) => p.ts === points[0]!.ts + w * W)),
  );
}

const all = periods();
const start = all[0]![0]!.ts - W;

/** One period's windows, each agent's with its watermark (every window ending by then is in). */
async function ingest(state: PartitionState, periods: SeriesInput[][], first: number): Promise<AlertEvent[]> {
  const alerts: AlertEvent[] = [];
  for (const [i, points] of periods.entries()) {
    for (const [k, agent] of ['gw-a', 'gw-b'].entries())
      alerts.push(
        ...(await state.detection.ingest(
          agent,
          points.filter((p) => Number(p.device.slice(4)) % 2 === k),
          start + (first + i + 1) * W,
        )),
      );
  }
  return alerts;
}

for (const workers of [undefined, pool]) {
  const where = workers === undefined ? 'in this thread' : 'over 2 worker threads';
  test(`a partition handed over in a snapshot goes on exactly as if it had not moved: same alerts, same dedupe (detection ${where})`, async () => {
    const straight = partition(workers);
    const seen = await ingest(straight.state, all, 0);
    await straight.state.detection.close();
    for (const split of [50, 183, 186, 191, 192, 193, 205, 212]) {
      const before = partition(workers);
      const moved = await ingest(before.state, all.slice(0, split), 0);
      for (let seq = 0; seq < 40; seq++) before.state.dedupe.add('gw-a', 1, seq);
      const bytes = await encodeSnapshot(7, 1234, before.state);
      await before.state.detection.close();
      const after = partition(workers);
      const restored = await restoreSnapshot(7, bytes, after.state);
      assert.deepEqual(restored, { ok: true, seq: 1234, damagedLines: 0 });
      moved.push(...(await ingest(after.state, all.slice(split), split)));
      await after.state.detection.close();
      assert.deepEqual(moved, seen, `moved after period ${split}`);
      assert.ok(
        after.state.dedupe.seen('gw-a', 1, 39) && !after.state.dedupe.seen('gw-a', 1, 40),
        'the dedupe state came along',
      );
    }
    assert.ok(
      seen.some((a) => a.state === 'opened'),
      'the series raise alerts',
    );
  });
}

test('a snapshot of another partition, or damaged bytes, is refused with the reason', async () => {
  const { state } = partition(undefined);
  const bytes = await encodeSnapshot(3, 10, state);
  assert.deepEqual(await restoreSnapshot(4, bytes, partition(undefined).state), {
    ok: false,
    reason: 'no header of partition 4',
  });
  const cut = await restoreSnapshot(3, bytes.subarray(0, bytes.length - 4), partition(undefined).state);
  assert.equal(cut.ok, false);
});
