/**
 * One run of the cloud processor for bench:cloud, in a process of its own (so its CPU and resident
 * memory are its own, and it can be pinned to a core with `taskset`):
 *
 *   processor-run.js JSON
 *
 * JSON: { influxUrl, influxdPid, database, series, agents, warmup, rounds, startMs, agentPrefix,
 * workers? }. Starts a CloudProcessor (embedded broker, private state directory) writing into
 * `database`, plays the fleet through it with the feeder (a child of this process, so it shares
 * this process's cores when pinned), and prints one JSON line: windows, seconds, the processor's
 * CPU (every thread: event loop, detection workers, GC and zlib helpers), event-loop use, RSS,
 * heap and array buffers, influxd's and the feeder's CPU over the same timed part, counters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { CloudProcessor } from '@tributary/cloud-processor';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { threadCpuSeconds } from './cpu.js';
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
  /** Write a heap snapshot of the event loop's thread here after the timed part (run node with --expose-gc to collect garbage first). */
  readonly heapSnapshot?: string;
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
  readonly rssEndBytes: number;
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
      },
    }),
    log: silentLogger,
  });
  await cloud.start();
  let rssMax = 0;
  let cpu0 = process.cpuUsage();
  let main0 = threadCpuSeconds();
  let elu0 = performance.eventLoopUtilization();
  let requests0 = 0;
  let lines0 = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 200);
  const shape = [o.series, o.agents, o.warmup, o.rounds, o.startMs, o.agentPrefix].map(String);
  const fed = await runFeeder(['mqtt', cloud.brokerUrl, ...shape], [o.influxdPid], () => {
    cpu0 = process.cpuUsage();
    main0 = threadCpuSeconds();
    elu0 = performance.eventLoopUtilization();
    requests0 = cloud.counters.get('write_requests');
    lines0 = cloud.counters.get('points_written');
    rssMax = process.memoryUsage.rss();
  }).done;
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = threadCpuSeconds() - main0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  clearInterval(sampler);
  if (o.heapSnapshot !== undefined) {
    (globalThis as { gc?: () => void }).gc?.();
    writeHeapSnapshot(o.heapSnapshot);
  }
  const mem = process.memoryUsage();
  const c = cloud.counters;
  const result: ProcessorRunResult = {
    windows: fed.windows,
    warmupWindows: fed.warmupWindows,
    seconds: fed.seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainThreadCpuSeconds: mainCpu,
    eventLoopBusy: elu,
    rssMaxBytes: Math.max(rssMax, mem.rss),
    rssEndBytes: mem.rss,
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
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
