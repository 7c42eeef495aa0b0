#!/usr/bin/env node
/**
 * npm run bench:cloud [-- --series 10000 --agents 20 --warmup 3 --rounds 30 --writer-passes 2]
 *
 * The cloud processor at InfluxDB's speed. A feeder process plays `agents` edge agents with a
 * realistic mix of `series` series (one window per series per round, 500-window batches, 8 in
 * flight per agent over MQTT); this process runs the cloud processor (embedded broker → intake →
 * validate → dedupe → detectors → writer) into a private influxd. The reference, in the same run
 * against the same influxd: the same windows as line protocol POSTed straight to /write
 * (5,000 lines a request, 4 in flight), once before and once after. The first `warmup` rounds
 * (new series) are not timed. Reports windows/s of both and their ratio; the processor's CPU
 * (process.cpuUsage), event-loop utilisation and RSS; influxd's and the feeder's CPU from /proc,
 * to show how the machine's cores were shared. Then the writer alone, two ways, twice each in
 * turn: the processor's own (PointEncoder + InfluxWriter) and the `influx` npm package
 * (node-influx, writePoints of IPoint objects), the same windows from decoded batches to durable:
 * windows/s and the writing process's CPU per window. Ends with one line of JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CloudProcessor } from '@tributary/cloud-processor';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { influxQuery, startInfluxd } from '@tributary/test/harness/influxd.js';
import { pidOf } from './cloud/cpu.js';
import { runFeeder } from './cloud/run-feeder.js';

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '10000' },
    agents: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '30' },
    /** Passes of the writer comparison (each writes every timed window once with each writer, alternated). */
    'writer-passes': { type: 'string', default: '2' },
    /** Write a CPU profile of the processor's timed part to this file (.cpuprofile, for Chrome DevTools). */
    profile: { type: 'string' },
  },
});
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const MB = 1024 * 1024;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Runs the feeder, watching influxd's CPU. */
async function feed(args: string[], influxdPid: number, onTimed?: () => void): Promise<{ windows: number; seconds: number; influxdCpu: number; feederCpu: number }> {
  const fed = await runFeeder(args, [influxdPid], onTimed).done;
  return { windows: fed.windows, seconds: fed.seconds, influxdCpu: fed.cpu[0]!, feederCpu: fed.feederCpu };
}

/** The stage costs, measured in a process of their own. */
function runStages(): { decode_validate_us: number; detect_us: number; encode_us: number; request_body_us: number } {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./cloud/stages.js', import.meta.url)), values.series, values.agents, values.warmup, values.rounds], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`stages failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ReturnType<typeof runStages>;
}

const rounds = Number(values.rounds);
const startMs = Math.floor((Date.now() - (Number(values.warmup) + rounds + 5) * 60_000) / 60_000) * 60_000;
const shape = [values.series, values.agents, values.warmup, values.rounds, String(startMs)];
const influxd = await startInfluxd();
const influxdPid = pidOf(influxd.dir);
if (influxdPid === undefined) throw new Error('cannot find the influxd process');
const stateDir = mkdtempSync(join(tmpdir(), 'tributary-bench-cloud-'));
const rateOf = (f: { windows: number; seconds: number }): number => f.windows / f.seconds;
try {
  log(`${values.series} series from ${values.agents} agents, ${rounds} rounds of one window per series after ${values.warmup} untimed rounds, into influxd 1.x on this host (${(await import('node:os')).cpus().length} cores, shared)`);
  const raw1 = await feed(['raw', influxd.url, 'raw_before', ...shape], influxdPid);
  log(`  reference, line protocol straight to /write: ${Math.round(rateOf(raw1))} windows/s (influxd ${round1(raw1.influxdCpu / raw1.seconds)} cores)`);

  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({ broker: { type: 'embedded', host: '127.0.0.1', port: 0 }, influx: { url: influxd.url, database: 'bench' }, stateDir }),
    log: silentLogger,
  });
  await cloud.start();
  let rssMax = 0;
  let cpu0 = process.cpuUsage();
  let elu0 = performance.eventLoopUtilization();
  let requests0 = 0;
  let lines0 = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 200);
  const profiler = values.profile === undefined ? undefined : new Session();
  profiler?.connect();
  await profiler?.post('Profiler.enable');
  const fed = await feed(['mqtt', cloud.brokerUrl, ...shape], influxdPid, () => {
    void profiler?.post('Profiler.start');
    cpu0 = process.cpuUsage();
    elu0 = performance.eventLoopUtilization();
    requests0 = cloud.counters.get('write_requests');
    lines0 = cloud.counters.get('points_written');
    rssMax = process.memoryUsage.rss();
  });
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(values.profile!, JSON.stringify(profile));
    profiler.disconnect();
  }
  clearInterval(sampler);
  const rssEnd = process.memoryUsage.rss();
  const c = cloud.counters;
  const rate = rateOf(fed);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const requests = c.get('write_requests') - requests0;
  log(`  cloud processor, detectors on (MQTT → InfluxDB, acked): ${Math.round(rate)} windows/s`);
  log(`    processor CPU ${round1(cpuSeconds)} s in ${round1(fed.seconds)} s: ${(cpuSeconds / fed.seconds).toFixed(2)} cores, ${Math.round((cpu.user + cpu.system) / fed.windows)} µs per window; event loop busy ${Math.round(100 * elu)} %`);
  log(`    influxd ${(fed.influxdCpu / fed.seconds).toFixed(2)} cores, feeder ${(fed.feederCpu / fed.seconds).toFixed(2)} cores; RSS max ${Math.round(rssMax / MB)} MB, at the end ${Math.round(rssEnd / MB)} MB`);
  log(`    ${requests} write requests (${Math.round((c.get('points_written') - lines0) / Math.max(1, requests))} lines each), ${c.get('write_retries')} retried, ${c.get('alerts_opened')} alerts opened`);
  await cloud.stop();

  const raw2 = await feed(['raw', influxd.url, 'raw_after', ...shape], influxdPid);
  log(`  reference again, after: ${Math.round(rateOf(raw2))} windows/s (influxd ${round1(raw2.influxdCpu / raw2.seconds)} cores)`);
  const stored = await influxQuery(influxd.url, 'bench', 'SELECT count("count") FROM "temperature","humidity","pressure","vibration","current","co2"');
  const inInflux = stored.reduce((n, s) => n + Number(s.values[0]?.[1] ?? 0), 0);
  const expected = fed.windows + Number(values.warmup) * Number(values.series);
  if (inInflux !== expected) throw new Error(`InfluxDB holds ${inInflux} windows, ${expected} were acked`);
  const reference = (rateOf(raw1) + rateOf(raw2)) / 2;
  log(`  processor / reference: ${((100 * rate) / reference).toFixed(0)} % (target: at least 90 %); every acked window is in InfluxDB (${inInflux})`);
  // The writer alone: ours against node-influx's, alternated so drift on the machine hits both.
  const writers: Record<'writer' | 'node-influx', Array<Awaited<ReturnType<typeof feed>>>> = { writer: [], 'node-influx': [] };
  for (let pass = 1; pass <= Number(values['writer-passes']); pass++) {
    for (const mode of ['writer', 'node-influx'] as const) writers[mode].push(await feed([mode, influxd.url, `${mode.replace('-', '_')}_${pass}`, ...shape], influxdPid));
  }
  const sum = (runs: ReadonlyArray<{ windows: number; seconds: number; feederCpu: number }>) => runs.reduce((a, r) => ({ windows: a.windows + r.windows, seconds: a.seconds + r.seconds, cpu: a.cpu + r.feederCpu }), { windows: 0, seconds: 0, cpu: 0 });
  const own = sum(writers.writer);
  const nodeInflux = sum(writers['node-influx']);
  const ownRate = own.windows / own.seconds;
  const nodeInfluxRate = nodeInflux.windows / nodeInflux.seconds;
  log(`  writer alone, decoded batches → durable: own (PointEncoder + InfluxWriter) ${Math.round(ownRate)} windows/s, ${Math.round((own.cpu * 1e6) / own.windows)} µs CPU per window; node-influx writePoints ${Math.round(nodeInfluxRate)} windows/s, ${Math.round((nodeInflux.cpu * 1e6) / nodeInflux.windows)} µs CPU per window`);
  const stages = runStages();
  const staged = stages.decode_validate_us + stages.detect_us + stages.encode_us + stages.request_body_us;
  log(`  where a window's processor CPU goes (same batches, one thread, no I/O): decode+validate ${stages.decode_validate_us} µs, detection ${stages.detect_us} µs, line protocol ${stages.encode_us} µs, request body ${stages.request_body_us} µs; the rest of the ${Math.round((cpu.user + cpu.system) / fed.windows)} µs is MQTT, intake, HTTP and GC of the live run`);
  process.stdout.write(
    `${JSON.stringify({
      series: Number(values.series),
      windows_timed: fed.windows,
      processor_windows_per_s: Math.round(rate),
      reference_raw_windows_per_s: Math.round(reference),
      reference_raw_before_windows_per_s: Math.round(rateOf(raw1)),
      reference_raw_after_windows_per_s: Math.round(rateOf(raw2)),
      processor_vs_raw_percent: round1((100 * rate) / reference),
      processor_cpu_cores: Math.round((cpuSeconds / fed.seconds) * 100) / 100,
      processor_cpu_us_per_window: Math.round((cpu.user + cpu.system) / fed.windows),
      processor_event_loop_busy_percent: Math.round(100 * elu),
      processor_rss_max_mb: Math.round(rssMax / MB),
      processor_rss_end_mb: Math.round(rssEnd / MB),
      influxd_cpu_cores_during_processor: Math.round((fed.influxdCpu / fed.seconds) * 100) / 100,
      influxd_cpu_cores_during_reference: Math.round(((raw1.influxdCpu + raw2.influxdCpu) / (raw1.seconds + raw2.seconds)) * 100) / 100,
      influxd_cpu_us_per_window_reference: Math.round(((raw1.influxdCpu + raw2.influxdCpu) * 1e6) / (raw1.windows + raw2.windows)),
      feeder_cpu_cores: Math.round((fed.feederCpu / fed.seconds) * 100) / 100,
      write_requests: requests,
      alerts_opened: c.get('alerts_opened'),
      stage_decode_validate_us_per_window: stages.decode_validate_us,
      stage_detect_us_per_window: stages.detect_us,
      stage_encode_us_per_window: stages.encode_us,
      stage_request_body_us_per_window: stages.request_body_us,
      stages_total_us_per_window: Math.round(staged * 10) / 10,
      own_writer_windows_per_s: Math.round(ownRate),
      own_writer_cpu_us_per_window: Math.round((own.cpu * 1e6) / own.windows),
      node_influx_writer_windows_per_s: Math.round(nodeInfluxRate),
      node_influx_writer_cpu_us_per_window: Math.round((nodeInflux.cpu * 1e6) / nodeInflux.windows),
    })}\n`,
  );
} finally {
  await influxd.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
