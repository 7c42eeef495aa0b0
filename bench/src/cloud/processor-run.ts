/**
 * One run of the cloud processor for bench:cloud, in a process of its own (so its CPU and resident
 * memory are its own, and it can be pinned to a core with `taskset`):
 *
 *   processor-run.js JSON
 *
 * JSON: { influxUrl, influxdPid, database, series, agents, warmup, rounds, startMs, agentPrefix,
 * workers?, maxSeries?, detector?, heapSnapshots? } (ProcessorRunOptions). Starts a
 * CloudProcessor (embedded broker, private state directory) writing into `database`, plays the
 * fleet through it with the feeder (a child of this process, so it shares this process's cores
 * when pinned), and prints one JSON line: windows, seconds, the processor's CPU (every thread:
 * event loop, detection workers, GC and zlib helpers), event-loop use, RSS, the peaks of the
 * event loop's heap, the workers' heaps and external memory, heap and array buffers at the end,
 * influxd's and the feeder's CPU over the same timed part, counters.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics, writeHeapSnapshot, type HeapInfo } from 'node:v8';
import { CloudProcessor } from '@tributary/cloud-processor';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { residentKinds, threadCpuSeconds } from './cpu.js';
import { runFeeder } from './run-feeder.js';

export interface ProcessorRunOptions {
  readonly influxUrl: string;
  readonly influxdPid: number;
  readonly database: string;
  readonly series: number;
  readonly agents: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly startMs: number;
  readonly agentPrefix: string;
  /** detection.workers; unset: the processor's default. */
  readonly workers?: number;
  /** detection.maxSeries; unset: the processor's default. */
  readonly maxSeries?: number;
  /** detection.detector for every metric (`static-threshold`: next to no state, for the processor's own floor; devices' detector off then). */
  readonly detector?: string;
  /**
   * Heap snapshots halfway through the timed part (once half its windows are written), with
   * batches in flight, into this directory: the event loop's thread (`main.heapsnapshot`) and each
   * detection worker (`worker-N.heapsnapshot`). The processor stands still while they are taken.
   */
  readonly heapSnapshots?: string;
}

export interface ProcessorRunResult {
  readonly windows: number;
  readonly warmupWindows: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** Of cpuSeconds, the event loop's thread (the rest: detection workers, GC and zlib helpers). */
  readonly mainThreadCpuSeconds: number;
  readonly eventLoopBusy: number;
  readonly rssMaxBytes: number;
  /** Peaks over the timed part (sampled every 200 ms) of the event loop's heap (committed and used) and of memory outside V8's heaps (Buffers and other external memory, of every thread). */
  readonly mainHeapTotalMaxBytes: number;
  readonly mainHeapUsedMaxBytes: number;
  readonly externalMaxBytes: number;
  /** Peak over the timed part of the detection workers' V8 heaps, summed: committed and used. */
  readonly workersHeapTotalMaxBytes: number;
  readonly workersHeapUsedMaxBytes: number;
  /** Peak over the timed part of the event loop's ArrayBuffers (Buffers among them), and of the detection workers' external memory (their typed arrays), summed. */
  readonly arrayBuffersMaxBytes: number;
  readonly workersExternalMaxBytes: number;
  readonly rssEndBytes: number;
  /**
   * Where the resident memory is at the end (after the timed part): anonymous and file-backed
   * (the code of node and its libraries); the event loop's heap (resident pages) and ArrayBuffers
   * before and after a full collection (so garbage not yet collected shows apart from what is
   * held; after = before without `--expose-gc`), the detection workers' heaps (resident pages)
   * and external memory.
   */
  readonly end: {
    readonly rssAnonBytes: number;
    readonly rssFileBytes: number;
    /** Of rssAnonBytes, glibc malloc's heap and thread arenas (Buffers' and messages' memory among them). */
    readonly mallocBytes: number;
    readonly mainHeapBytes: number;
    readonly arrayBuffersBytes: number;
    readonly arrayBuffersAfterGcBytes: number;
    readonly workersHeapBytes: number;
    readonly workersExternalBytes: number;
  };
  readonly heapUsedBytes: number;
  readonly arrayBuffersBytes: number;
  readonly influxdCpuSeconds: number;
  readonly feederCpuSeconds: number;
  readonly writeRequests: number;
  readonly pointsWritten: number;
  readonly alertsOpened: number;
  readonly workers: number;
  readonly series: number;
}

/** The detection pool inside `cloud` (private: a measurement, not an API); undefined without workers. */
function poolOf(cloud: CloudProcessor): PrivatePool | undefined {
  const pool = (cloud as unknown as { partition?: { pool?: PrivatePool } }).partition?.pool;
  if (cloud.detection.workers > 0 && typeof pool?.heapStatistics !== 'function')
    throw new Error("processor-run: cannot find the detection workers (the partition's private layout changed)");
  return pool;
}
interface PrivatePool {
  readonly slots?: Array<{ worker: Worker } | undefined>;
  heapStatistics(): Promise<HeapInfo[]>;
}

/** One figure summed over the workers' heaps. */
const sum = (heaps: readonly HeapInfo[], key: keyof HeapInfo): number => heaps.reduce((n, h) => n + h[key], 0);

/**
 * Writes the heap snapshots of every thread of `cloud` into `dir`. The workers are reached through
 * private fields (the partition's pool and its slots): a measurement, not an API; it says so and
 * stops when they are not where it looks.
 */
async function heapSnapshots(cloud: CloudProcessor, dir: string): Promise<void> {
  writeHeapSnapshot(join(dir, 'main.heapsnapshot'));
  const slots = poolOf(cloud)?.slots;
  for (const [i, slot] of (slots ?? []).entries()) {
    if (slot === undefined) continue;
    await pipeline(await slot.worker.getHeapSnapshot(), createWriteStream(join(dir, `worker-${i}.heapsnapshot`)));
  }
}

const o = JSON.parse(process.argv[2]!) as ProcessorRunOptions;
const stateDir = mkdtempSync(join(tmpdir(), 'tributary-bench-cloud-'));
try {
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      influx: { url: o.influxUrl, database: o.database },
      stateDir,
      detection: {
        ...(o.workers === undefined ? {} : { workers: o.workers }),
        ...(o.maxSeries === undefined ? {} : { maxSeries: o.maxSeries }),
        ...(o.detector === undefined ? {} : { detector: o.detector, devices: { detector: 'none' } }),
      },
    }),
    log: silentLogger,
  });
  await cloud.start();
  let rssMax = 0;
  let heapTotalMax = 0;
  let heapUsedMax = 0;
  let externalMax = 0;
  let workersTotalMax = 0;
  let workersUsedMax = 0;
  let arrayBuffersMax = 0;
  let workersExternalMax = 0;
  let sampling = false;
  /** Samples of the workers' heaps that failed (a missed peak, said on stderr at the end). */
  let sampleMisses = 0;
  const pool = poolOf(cloud);
  let cpu0 = process.cpuUsage();
  let main0 = threadCpuSeconds();
  let elu0 = performance.eventLoopUtilization();
  let requests0 = 0;
  let lines0 = 0;
  let windows0 = Infinity;
  let snapshots: Promise<void> | undefined;
  const sampler = setInterval(() => {
    if (
      o.heapSnapshots !== undefined &&
      snapshots === undefined &&
      cloud.counters.get('windows_written') - windows0 >= (o.rounds * o.series) / 2
    )
      snapshots = heapSnapshots(cloud, o.heapSnapshots);
    const m = process.memoryUsage();
    rssMax = Math.max(rssMax, m.rss);
    heapTotalMax = Math.max(heapTotalMax, m.heapTotal);
    heapUsedMax = Math.max(heapUsedMax, m.heapUsed);
    externalMax = Math.max(externalMax, m.external);
    arrayBuffersMax = Math.max(arrayBuffersMax, m.arrayBuffers);
    // A sample is skipped while one is outstanding, and a failed one is only a missed peak (not the run's end).
    if (pool !== undefined && !sampling) {
      sampling = true;
      pool
        .heapStatistics()
        .then((heaps) => {
          workersExternalMax = Math.max(workersExternalMax, sum(heaps, 'external_memory'));
          workersTotalMax = Math.max(workersTotalMax, sum(heaps, 'total_heap_size'));
          workersUsedMax = Math.max(workersUsedMax, sum(heaps, 'used_heap_size'));
        })
        .catch(() => {
          sampleMisses++;
        })
        .finally(() => {
          sampling = false;
        });
    }
  }, 200);
  const shape = [o.series, o.agents, o.warmup, o.rounds, o.startMs, o.agentPrefix].map(String);
  const fed = await runFeeder(['mqtt', cloud.brokerUrl, ...shape], [o.influxdPid], () => {
    cpu0 = process.cpuUsage();
    main0 = threadCpuSeconds();
    elu0 = performance.eventLoopUtilization();
    requests0 = cloud.counters.get('write_requests');
    lines0 = cloud.counters.get('points_written');
    windows0 = cloud.counters.get('windows_written');
    rssMax = process.memoryUsage.rss();
    heapTotalMax = heapUsedMax = externalMax = workersTotalMax = workersUsedMax = 0;
    arrayBuffersMax = workersExternalMax = 0;
  }).done;
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = threadCpuSeconds() - main0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  clearInterval(sampler);
  await snapshots;
  // Read together, before any collection, so "the rest" of RssAnon is not skewed by heap pages
  // a collection frees between the readings.
  const mem = process.memoryUsage();
  const mainHeap = getHeapStatistics();
  const resident = residentKinds();
  const workerHeaps = (await pool?.heapStatistics()) ?? [];
  // A full collection, when the run has --expose-gc: what of the ArrayBuffers is garbage not yet collected.
  // (Backing stores are freed by a sweeper after the collection: a moment later.)
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const c = cloud.counters;
  const result: ProcessorRunResult = {
    windows: fed.windows,
    warmupWindows: fed.warmupWindows,
    seconds: fed.seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainThreadCpuSeconds: mainCpu,
    eventLoopBusy: elu,
    rssMaxBytes: Math.max(rssMax, mem.rss),
    mainHeapTotalMaxBytes: heapTotalMax,
    mainHeapUsedMaxBytes: heapUsedMax,
    externalMaxBytes: externalMax,
    workersHeapTotalMaxBytes: workersTotalMax,
    workersHeapUsedMaxBytes: workersUsedMax,
    arrayBuffersMaxBytes: arrayBuffersMax,
    workersExternalMaxBytes: workersExternalMax,
    rssEndBytes: mem.rss,
    end: {
      rssAnonBytes: resident.anonBytes,
      rssFileBytes: resident.fileBytes,
      mallocBytes: resident.mallocBytes,
      mainHeapBytes: mainHeap.total_physical_size,
      arrayBuffersBytes: mem.arrayBuffers,
      arrayBuffersAfterGcBytes: process.memoryUsage().arrayBuffers,
      workersHeapBytes: sum(workerHeaps, 'total_physical_size'),
      workersExternalBytes: sum(workerHeaps, 'external_memory'),
    },
    heapUsedBytes: mem.heapUsed,
    arrayBuffersBytes: mem.arrayBuffers,
    influxdCpuSeconds: fed.cpu[0]!,
    feederCpuSeconds: fed.feederCpu,
    writeRequests: c.get('write_requests') - requests0,
    pointsWritten: c.get('points_written') - lines0,
    alertsOpened: c.get('alerts_opened'),
    workers: cloud.detection.workers,
    series: cloud.detection.size,
  };
  await cloud.stop();
  if (sampleMisses > 0)
    process.stderr.write(
      `processor-run: ${sampleMisses} samples of the workers' heaps failed (their peaks may be low)\n`,
    );
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
