/**
 * A device reporting more metrics at once than its machine detector judges together
 * (`detection.devices.settings.maxMetrics`): the rest are left out of the joint judgement, and
 * that loss is counted and reported naming the device, as every loss is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import type { SeriesInput } from './detection.js';
import type { LocalDetection } from './detection-runner.js';
import { Outputs } from '../outputs.js';
import { createPartition } from '../partition.js';
import { DetectionPool } from './shards/pool.js';

async function leftOutRun(workers: number) {
  const config = ProcessorConfigSchema.parse({
    stateDir: '/nonexistent/tributary-test',
    detection: { devices: { settings: { maxMetrics: 4 } } },
  });
  const outputs = new Outputs(config, silentLogger);
  const pool = workers > 0 ? new DetectionPool(workers, silentLogger) : undefined;
  const { detection } = createPartition(
    config,
    outputs,
    { maxSeries: 1_000, maxSeriesKey: 'test' },
    () => undefined,
    pool,
  );
  const rows = 10;
  for (let i = 0; i < rows; i++) {
    // One row of a test rig: six metrics at once; a second device with three stays within the bound.
    const row: SeriesInput[] = [
      ...Array.from({ length: 6 }, (_, k) => ({ device: 'rig 7', metric: `m${k}`, value: k + Math.sin(i + k) })),
      ...Array.from({ length: 3 }, (_, k) => ({ device: 'pump-1', metric: `m${k}`, value: k + Math.cos(i + k) })),
    ].map((p) => ({ ...p, ts: 1_000 * (i + 1), lengthMs: 0, min: p.value, max: p.value, stddev: 0, count: 1 }));
    await detection.ingest('gw', row, undefined);
  }
  await detection.close();
  await pool?.close();
  assert.equal(outputs.counters.get('machine_metrics_left_out'), 2 * rows);
  const reported = outputs.problems.drain().filter((p) => p.reason === 'machine_metrics_left_out');
  assert.equal(reported.length, 1);
  assert.equal(reported[0]!.count, rows);
  assert.match(reported[0]!.example, /device "rig 7" .*maxMetrics: 2 \("m4", …\)/);
  assert.doesNotMatch(reported[0]!.example, /pump-1/);
  return detection;
}

test("metrics beyond the machine detector's bound are counted per reading and reported once per interval, naming the device", async () => {
  const detection = (await leftOutRun(0)) as LocalDetection;
  // The metrics the machine judges leave their level shifts to it; the two left out keep their own.
  const shiftOf = (metric: string): boolean => {
    const series = detection.detection.snapshot().series.find((s) => s.device === 'rig 7' && s.metric === metric)!;
    return 'shift' in (series.state as { members: object }).members;
  };
  assert.deepEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5'].map(shiftOf), [false, false, false, false, true, true]);
});

test('with detection on worker threads the metrics left out are counted and reported the same', async () => {
  await leftOutRun(2);
});
