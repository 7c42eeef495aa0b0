import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import type { SeriesInput } from '../detection.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outputs } from '../../outputs.js';
import { detectionPool } from '../../partition.js';
import {
  DetectionPool,
  MIN_OLD_GENERATION_MB,
  WorkerGoneError,
  workerResourceLimits,
  YOUNG_GENERATION_MB,
} from './pool.js';
import type { ShardRequest } from './protocol.js';
import { ShardedDetection } from './sharded-detection.js';

const config = ProcessorConfigSchema.parse({});
const W = 60_000;
const point = (device: string, ts: number): SeriesInput => ({
  device,
  metric: 'temperature',
  ts,
  lengthMs: W,
  value: 20,
  min: 19,
  max: 21,
  stddev: 0.5,
  count: 60,
  first: 20,
  last: 20,
  outOfRange: 0,
});
const devices = Array.from({ length: 20 }, (_, i) => `dev-${i}`);

/** The thread behind worker `i` (private: this test kills it, as a crash would). */
const threadOf = (pool: DetectionPool, i: number): Worker =>
  (pool as unknown as { slots: Array<{ worker: Worker } | undefined> }).slots[i]!.worker;

test('a detection worker that dies fails its batches in flight, is started again, and detection goes on', async (t) => {
  const restarts: Array<[number, string]> = [];
  const pool = new DetectionPool(2, silentLogger, (worker, reason) => restarts.push([worker, reason]));
  t.after(() => pool.close());
  const detection = new ShardedDetection(pool, {
    detection: config.detection,
    alerts: config.alerts,
    maxSeries: 1000,
    maxQueuedBatches: 4,
    onEvicted: () => undefined,
    onDropped: () => undefined,
    onMetricsLeftOut: () => undefined,
  });
  await detection.ingest(
    'gw',
    devices.map((d) => point(d, W)),
    W,
  );
  assert.equal(detection.size, 20);

  // Killed before it can read the batch: the batch is in flight when the thread ends.
  const dying = threadOf(pool, 0).terminate();
  const inFlight = detection.ingest(
    'gw',
    devices.map((d) => point(d, 2 * W)),
    2 * W,
  );
  await dying;
  await assert.rejects(inFlight, WorkerGoneError);
  assert.deepEqual(
    restarts.map(([w]) => w),
    [0],
  );

  // Worker 0 holds nothing now (its series start afresh); both answer again.
  await detection.ingest(
    'gw',
    devices.map((d) => point(d, 3 * W)),
    3 * W,
  );
  assert.equal(detection.size, 20);
  await detection.close();
});

test('a pool that is never asked starts no threads, and a closed one refuses requests', async () => {
  const pool = new DetectionPool(3, silentLogger);
  assert.equal((pool as unknown as { slots: unknown[] }).slots.filter(Boolean).length, 0);
  await pool.close();
  await assert.rejects(pool.request(0, { op: 'drop', id: 1 }), WorkerGoneError);
});

test('a request that cannot be sent fails alone; the others of its turn, to its worker and to another, are answered', async (t) => {
  const pool = new DetectionPool(2, silentLogger);
  t.after(() => pool.close());
  const notCloneable = { op: 'heap', oops: () => 1 } as unknown as ShardRequest;
  const [before, bad, after, other] = await Promise.allSettled([
    pool.request(0, { op: 'heap' }),
    pool.request(0, notCloneable),
    pool.request(0, { op: 'heap' }),
    pool.request(1, { op: 'heap' }),
  ]);
  assert.equal(bad!.status, 'rejected');
  assert.equal((bad as PromiseRejectedResult).reason.name, 'DataCloneError');
  for (const r of [before, after, other]) assert.equal(r!.status, 'fulfilled');
});

test('detection workers run with a young generation of YOUNG_GENERATION_MB, not the 48 MB Node gives a worker by default', async (t) => {
  const pool = new DetectionPool(1, silentLogger);
  t.after(() => pool.close());
  await pool.request(0, { op: 'drop', id: 1 });
  assert.equal(threadOf(pool, 0).resourceLimits?.maxYoungGenerationSizeMb, YOUNG_GENERATION_MB);
});

test("a detection worker's old generation is sized for the series it may hold, at least MIN_OLD_GENERATION_MB, V8's own past 2 GB", () => {
  for (const [series, oldMb] of [
    [1, MIN_OLD_GENERATION_MB],
    [10_000, MIN_OLD_GENERATION_MB],
    [20_000, 1250],
    [32_752, 2047],
    [32_768, undefined],
    [Number.POSITIVE_INFINITY, undefined],
  ] as const)
    assert.deepEqual(
      workerResourceLimits(series),
      {
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
        ...(oldMb === undefined ? {} : { maxOldGenerationSizeMb: oldMb }),
      },
      `${series} series`,
    );
});

test("the processor's detection workers run with the limits of their share of detection.maxSeries; a cluster member's without an old-generation limit", async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tributary-pool-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const sized = ProcessorConfigSchema.parse({ stateDir, detection: { workers: 2, maxSeries: 30_000 } });
  const outputs = new Outputs(sized, silentLogger);
  // V8's own limit, from this machine's memory.
  const plain = new DetectionPool(1, silentLogger);
  t.after(() => plain.close());
  await plain.request(0, { op: 'drop', id: 1 });
  const v8Own = threadOf(plain, 0).resourceLimits!.maxOldGenerationSizeMb;
  for (const [partitions, oldMb] of [
    [1, 1024],
    [2, 1875],
    [Number.POSITIVE_INFINITY, v8Own],
  ] as const) {
    const pool = detectionPool(sized, outputs, silentLogger, partitions)!;
    t.after(() => pool.close());
    await pool.request(1, { op: 'drop', id: 1 });
    const limits = threadOf(pool, 1).resourceLimits!;
    assert.equal(limits.maxYoungGenerationSizeMb, YOUNG_GENERATION_MB);
    assert.equal(limits.maxOldGenerationSizeMb, oldMb, `${partitions} partition(s)`);
  }
  const v8Limit = ProcessorConfigSchema.parse({ stateDir, detection: { workers: 2, workerHeapLimit: 'v8' } });
  const pool = detectionPool(v8Limit, outputs, silentLogger)!;
  t.after(() => pool.close());
  await pool.request(0, { op: 'drop', id: 1 });
  assert.equal(threadOf(pool, 0).resourceLimits!.maxOldGenerationSizeMb, v8Own, 'workerHeapLimit: v8');
});
