#!/usr/bin/env node
/**
 * npm run bench:cloud [-- --series 10000 --agents 20 --warmup 3 --rounds 30 --big-series 100000
 *                        --big-rounds 3 --workers N --detector NAME --profile DIR --heap-snapshots DIR
 *                        --pinned-repeats 3 --writer-passes 2 --state-series 2000 --state-windows 150 --skip pinned,big]
 *
 * The cloud processor at InfluxDB's speed. A feeder process plays `agents` edge agents with a
 * realistic mix of `series` series (one window per series per round, 500-window batches, 8 in
 * flight per agent over MQTT) through a cloud processor in a process of its own (embedded broker
 * → intake → validate → dedupe → detectors → writer) into a private influxd. The reference, in
 * the same run against the same influxd: the same windows as line protocol POSTed straight to
 * /write (5,000 lines a request, 4 in flight). The first `warmup` rounds (new series) are not
 * timed.
 *
 * Runs, each into a database of its own (every acked window is checked to be in it):
 * - shared: processor, influxd and feeders on whatever cores the machine gives them, with a raw
 *   reference before and after;
 * - pinned (`taskset`): influxd alone on the last core, the processor (and the feeder) on the
 *   others, beside a raw reference pinned the same way — what each costs when they do not take
 *   each other's cores (on this 2-core machine: one core each); reference and processor
 *   alternate `pinned-repeats` times and the median pair's ratio is the figure;
 * - big: `big-series` series for `big-rounds` timed rounds, for the resident memory of a large fleet.
 * - writer: the writer alone, two ways, `writer-passes` times each in turn: the processor's own
 *   (PointEncoder + InfluxWriter) and the `influx` npm package (node-influx, writePoints of IPoint
 *   objects), the same windows from decoded batches to durable: windows/s and the writing
 *   process's CPU per window (docs/influxdb.md says why the writer stays ours).
 * Then the cost of each stage on one thread without I/O (stages.js) and the heap each series costs,
 * by detector member (state-size.js; after `state-windows` windows: 4400 fill every history).
 * Reports windows/s, CPU per window of the processor (all its threads) and of influxd over the same
 * windows, RSS, worker count; ends with one line of JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { influxQuery, startInfluxd } from '@tributary/test/harness/influxd.js';
import { cloudArgs } from './cloud/args.js';
import { pidOf } from './cloud/cpu.js';
import { MB, rateOf, round1, us } from './cloud/figures.js';
import { measurePinned, pinnedFigures, type Pinned, type RawRun } from './cloud/pinned.js';
import type { ProcessorRunOptions, ProcessorRunResult } from './cloud/processor-run.js';
import { memoryFigures, residentOf } from './cloud/resident.js';
import { runFeeder, type Fed } from './cloud/run-feeder.js';
import { runProcessor } from './cloud/run-processor.js';

const { values, pinnedRepeats } = cloudArgs();
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const skip = new Set(values.skip.split(',').filter(Boolean));
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

/** The raw reference: the same windows straight to /write; influxd's CPU over its timed part. */
async function raw(database: string, shape: string[], influxdPid: number, cpus?: string): Promise<RawRun> {
  const fed = await runFeeder(['raw', influxUrl, database, ...shape], [influxdPid], undefined, cpus).done;
  return { windows: fed.windows, seconds: fed.seconds, influxdCpu: fed.cpu[0]! };
}

/** A processor run in its own process (pinned to `cpus` when given). */
function processorRun(
  o: Omit<ProcessorRunOptions, 'influxUrl' | 'influxdPid' | 'agents' | 'startMs'>,
  cpus?: string,
  profileDir?: string,
): Promise<ProcessorRunResult> {
  const full: ProcessorRunOptions = {
    ...o,
    influxUrl,
    influxdPid,
    agents: Number(values.agents),
    startMs,
    ...(values.workers === undefined ? {} : { workers: Number(values.workers) }),
    ...(values.detector === undefined ? {} : { detector: values.detector }),
  };
  return runProcessor(full, values['node-flags'].split(' ').filter(Boolean), cpus, profileDir);
}

/** The last JSON line of a script run in a process of its own. */
function script<T>(file: string, args: string[], node: string[] = []): T {
  const r = spawnSync(process.execPath, [...node, here(file), ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** Checks that InfluxDB holds every window the run acked (and its untimed warm-up). */
async function checkStored(database: string, expected: number): Promise<void> {
  const stored = await influxQuery(
    influxUrl,
    database,
    'SELECT count("count") FROM "temperature","humidity","pressure","vibration","current","co2"',
  );
  const n = stored.reduce((sum, s) => sum + Number(s.values[0]?.[1] ?? 0), 0);
  if (n !== expected) throw new Error(`InfluxDB database ${database} holds ${n} windows, ${expected} were acked`);
}

const describe = (r: ProcessorRunResult): string =>
  `${Math.round(rateOf(r))} windows/s; processor ${us(r.cpuSeconds, r.windows)} µs CPU per window, ${us(r.mainThreadCpuSeconds, r.windows)} of them in the event loop's thread (${(r.cpuSeconds / r.seconds).toFixed(2)} cores, ${r.workers} detection worker(s), event loop busy ${Math.round(100 * r.eventLoopBusy)} %), influxd ${us(r.influxdCpuSeconds, r.windows)} µs per window; RSS max ${Math.round(r.rssMaxBytes / MB)} MB (peaks: event loop's heap ${Math.round(r.mainHeapTotalMaxBytes / MB)} MB committed, ${Math.round(r.mainHeapUsedMaxBytes / MB)} MB used; detection workers' heaps ${Math.round(r.workersHeapTotalMaxBytes / MB)} MB committed, ${Math.round(r.workersHeapUsedMaxBytes / MB)} MB used; external ${Math.round(r.externalMaxBytes / MB)} MB; heap ${Math.round(r.heapUsedBytes / MB)} MB, array buffers ${Math.round(r.arrayBuffersBytes / MB)} MB at the end)\n    ${residentOf(r)}`;

/** The heapSnapshots option of a run: DIR/run, made now, when --heap-snapshots DIR is given. */
function snapshotsOf(run: string): { heapSnapshots?: string } {
  if (values['heap-snapshots'] === undefined) return {};
  const dir = join(values['heap-snapshots'], run);
  mkdirSync(dir, { recursive: true });
  return { heapSnapshots: dir };
}

const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
const bigRounds = Number(values['big-rounds']);
const startMs = Math.floor((Date.now() - (warmup + Math.max(rounds, bigRounds) + 5) * 60_000) / 60_000) * 60_000;
const shape = (series: string, r: number): string[] => [
  series,
  values.agents,
  values.warmup,
  String(r),
  String(startMs),
];
const influxd = await startInfluxd();
const influxUrl = influxd.url;
const foundPid = pidOf(influxd.dir);
if (foundPid === undefined) {
  await influxd.stop();
  throw new Error('cannot find the influxd process');
}
const influxdPid: number = foundPid;
const cores = availableParallelism();
try {
  log(
    `${values.series} series from ${values.agents} agents, ${rounds} rounds of one window per series after ${warmup} untimed rounds, into influxd 1.x on this host (${cores} cores, shared with whatever else runs)`,
  );
  const raw1 = await raw('raw_before', shape(values.series, rounds), influxdPid);
  log(
    `  reference, line protocol straight to /write: ${Math.round(rateOf(raw1))} windows/s (influxd ${us(raw1.influxdCpu, raw1.windows)} µs CPU per window)`,
  );
  const shared = await processorRun(
    {
      database: 'shared',
      series: Number(values.series),
      warmup,
      rounds,
      agentPrefix: 'shared',
      ...snapshotsOf('shared'),
    },
    undefined,
    values.profile,
  );
  await checkStored('shared', shared.windows + shared.warmupWindows);
  log(`  cloud processor, detectors on (MQTT → InfluxDB, acked): ${describe(shared)}`);
  const raw2 = await raw('raw_after', shape(values.series, rounds), influxdPid);
  log(`  reference again, after: ${Math.round(rateOf(raw2))} windows/s`);
  const reference = (rateOf(raw1) + rateOf(raw2)) / 2;
  const influxdRawUs = ((raw1.influxdCpu + raw2.influxdCpu) * 1e6) / (raw1.windows + raw2.windows);
  log(
    `  processor / reference, sharing the cores: ${((100 * rateOf(shared)) / reference).toFixed(0)} % (target: at least 70 %)`,
  );

  let pinned: Pinned | undefined;
  if (!skip.has('pinned') && cores > 1)
    pinned = await measurePinned({
      repeats: pinnedRepeats,
      influxdPid,
      cores,
      raw: (database, cpus) => raw(database, shape(values.series, rounds), influxdPid, cpus),
      run: async (database, cpus) => {
        const run = await processorRun(
          { database, series: Number(values.series), warmup, rounds, agentPrefix: 'pinned' },
          cpus,
        );
        await checkStored(database, run.windows + run.warmupWindows);
        return run;
      },
      log,
      describe,
    });

  let big: ProcessorRunResult | undefined;
  if (!skip.has('big')) {
    // detection.maxSeries (20,000 by default) raised, so every series keeps its state.
    big = await processorRun({
      database: 'big',
      series: Number(values['big-series']),
      warmup,
      rounds: bigRounds,
      agentPrefix: 'big',
      maxSeries: 2 * Number(values['big-series']),
      ...snapshotsOf('big'),
    });
    await checkStored('big', big.windows + big.warmupWindows);
    log(`  ${values['big-series']} series, ${bigRounds} timed rounds: ${describe(big)}`);
  }

  let writers: { own: { rate: number; cpuUs: number }; nodeInflux: { rate: number; cpuUs: number } } | undefined;
  if (!skip.has('writer')) {
    // The writer alone: ours against node-influx's, alternated so drift on the machine hits both.
    const runs: Record<'writer' | 'node-influx', Fed[]> = { writer: [], 'node-influx': [] };
    for (let pass = 1; pass <= Number(values['writer-passes']); pass++) {
      for (const mode of ['writer', 'node-influx'] as const)
        runs[mode].push(
          await runFeeder(
            [mode, influxUrl, `${mode.replace('-', '_')}_${pass}`, ...shape(values.series, rounds)],
            [influxdPid],
          ).done,
        );
    }
    const sum = (fed: readonly Fed[]): { rate: number; cpuUs: number } => {
      const t = fed.reduce(
        (a, r) => ({ windows: a.windows + r.windows, seconds: a.seconds + r.seconds, cpu: a.cpu + r.feederCpu }),
        { windows: 0, seconds: 0, cpu: 0 },
      );
      return { rate: t.windows / t.seconds, cpuUs: (t.cpu * 1e6) / t.windows };
    };
    writers = { own: sum(runs.writer), nodeInflux: sum(runs['node-influx']) };
    log(
      `  writer alone, decoded batches → durable: own (PointEncoder + InfluxWriter) ${Math.round(writers.own.rate)} windows/s, ${Math.round(writers.own.cpuUs)} µs CPU per window; node-influx writePoints ${Math.round(writers.nodeInflux.rate)} windows/s, ${Math.round(writers.nodeInflux.cpuUs)} µs CPU per window`,
    );
  }

  type Stages = { decode_validate_us: number; detect_us: number; encode_us: number; request_body_us: number };
  const stages = skip.has('stages')
    ? undefined
    : script<Stages>('./cloud/stages.js', [values.series, values.agents, values.warmup, values.rounds]);
  if (stages) {
    const cpuUs = (shared.cpuSeconds * 1e6) / shared.windows;
    const staged = stages.decode_validate_us + stages.detect_us + stages.encode_us + stages.request_body_us;
    log(
      `  where a window's processor CPU goes (same batches, one thread, no I/O, CPU time): decode+validate ${stages.decode_validate_us} µs, detection ${stages.detect_us} µs, line protocol ${stages.encode_us} µs, request body ${stages.request_body_us} µs; the other ${round1(cpuUs - staged)} µs of the live run's ${round1(cpuUs)} are MQTT, intake, worker messages, HTTP, gzip and GC`,
    );
  }
  type State = {
    series: number;
    heap_kb_per_series: number;
    array_buffers_kb_per_series: number;
    /** slab_kb: the member's regions of the series' shared buffer (absent from older state-size.js). */
    members: Record<string, { heap_kb: number; array_buffers_kb: number; slab_kb?: number }>;
  };
  const state = skip.has('state')
    ? undefined
    : script<State>('./cloud/state-size.js', [values['state-series'], values['state-windows']], ['--expose-gc']);
  if (state) {
    const all = (m: State['members'][string]): number => m.heap_kb + m.array_buffers_kb + (m.slab_kb ?? 0);
    const members = Object.entries(state.members)
      .sort((a, b) => all(b[1]) - all(a[1]))
      .map(([name, m]) => `${name} ${round1(all(m))}`)
      .join(', ');
    log(
      `  state per series (${state.series} series after ${values['state-windows']} windows each): heap ${state.heap_kb_per_series} kB + array buffers ${state.array_buffers_kb_per_series} kB; by member (kB, heap + buffers): ${members}`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      series: Number(values.series),
      cores,
      detection_workers: shared.workers,
      windows_timed: shared.windows,
      processor_windows_per_s: Math.round(rateOf(shared)),
      reference_raw_windows_per_s: Math.round(reference),
      reference_raw_before_windows_per_s: Math.round(rateOf(raw1)),
      reference_raw_after_windows_per_s: Math.round(rateOf(raw2)),
      processor_vs_raw_percent: round1((100 * rateOf(shared)) / reference),
      processor_cpu_cores: Math.round((shared.cpuSeconds / shared.seconds) * 100) / 100,
      processor_cpu_us_per_window: us(shared.cpuSeconds, shared.windows),
      processor_main_thread_cpu_us_per_window: us(shared.mainThreadCpuSeconds, shared.windows),
      processor_event_loop_busy_percent: Math.round(100 * shared.eventLoopBusy),
      influxd_cpu_us_per_window_during_processor: us(shared.influxdCpuSeconds, shared.windows),
      influxd_cpu_us_per_window_reference: round1(influxdRawUs),
      feeder_cpu_cores: Math.round((shared.feederCpuSeconds / shared.seconds) * 100) / 100,
      ...memoryFigures('processor_', shared),
      write_requests: shared.writeRequests,
      alerts_opened: shared.alertsOpened,
      ...(pinned && pinnedFigures(pinned)),
      ...(big && {
        big_series: Number(values['big-series']),
        ...memoryFigures('big_processor_', big),
        big_processor_cpu_us_per_window: us(big.cpuSeconds, big.windows),
        big_processor_windows_per_s: Math.round(rateOf(big)),
      }),
      ...(writers && {
        own_writer_windows_per_s: Math.round(writers.own.rate),
        own_writer_cpu_us_per_window: Math.round(writers.own.cpuUs),
        node_influx_writer_windows_per_s: Math.round(writers.nodeInflux.rate),
        node_influx_writer_cpu_us_per_window: Math.round(writers.nodeInflux.cpuUs),
      }),
      ...(stages && {
        stage_decode_validate_us_per_window: stages.decode_validate_us,
        stage_detect_us_per_window: stages.detect_us,
        stage_encode_us_per_window: stages.encode_us,
        stage_request_body_us_per_window: stages.request_body_us,
      }),
      ...(state && {
        state_heap_kb_per_series: state.heap_kb_per_series,
        state_array_buffers_kb_per_series: state.array_buffers_kb_per_series,
      }),
    })}\n`,
  );
} finally {
  await influxd.stop();
}
