#!/usr/bin/env node
/**
 * npm run bench:cluster [-- --series 5000 --agents 48 --warmup 3 --rounds 20 --takeovers 5]
 *
 * Scale-out on this machine. The same fleet of agents' batches (the feeder of bench:cloud, in its
 * own process: one window per series per round, at most 8 unacked batches per agent) through:
 * the single processor (embedded broker, the default), then 1, 2 and 3 cluster members on
 * nats-server (the agents publish to its MQTT listener; the members read the partitioned stream).
 * Each from its CLI, each into its own database of one private influxd. Reports windows/s and the
 * CPU per window of the processors (from /proc, summed over members), of nats-server and influxd.
 * Then, with three members under load, SIGKILLs one `takeovers` times (restarting it after each):
 * the time until every partition is owned again (median, worst) and the batches replayed.
 * Ends with one line of JSON.
 */
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessorConfigInput } from '@tributary/firmware-schemas';
import { parseCommandLine } from '@tributary/runtime';
import { startInfluxd } from '@tributary/test/harness/influxd.js';
import { startNatsServer, type NatsServer } from '@tributary/test/harness/nats-server.js';
import { freePort } from '@tributary/test/harness/ports.js';
import { NodeService } from '@tributary/test/harness/processes.js';
import { waitFor } from '@tributary/test/harness/wait.js';
import { pidOf } from './cloud/cpu.js';
import { runFeeder, type Fed } from './cloud/run-feeder.js';

const USAGE = `usage: npm run bench:cluster [-- OPTIONS]

The same fleet through the single processor and through 1, 2 and 3 cluster members on
nats-server, each into its own database of one private influxd: windows/s and CPU per window;
then the takeover time after a SIGKILL of one of three members under load. Ends with one line of
JSON (docs/benchmarks.md).

      --series N      series of the fleet (5000)
      --agents N      agents sending them (48)
      --warmup N      rounds not timed (3)
      --rounds N      rounds timed (20)
      --takeovers N   SIGKILLs of a member, each timed until its partitions are owned again (5)
  -h, --help          prints this and exits
`;

const { values } = parseCommandLine('bench:cluster', USAGE, {
  options: {
    series: { type: 'string', default: '5000' },
    agents: { type: 'string', default: '48' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '20' },
    takeovers: { type: 'string', default: '5' },
  },
});
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const r1 = (x: number): number => Math.round(x * 10) / 10;
const series = Number(values.series);
/** Series of the load kept up during the takeovers (its batches are made before it starts: 400 rounds of these). */
const LOAD_SERIES = 1000;
const [warmup, rounds] = [Number(values.warmup), Number(values.rounds)];
const influxd = await startInfluxd();
const influxdPid = pidOf(influxd.dir)!;
const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-cluster-'));
let nats: NatsServer | undefined;
const started: NodeService[] = [];
/** Feeders running in the background, stopped in the end whatever happens. */
const feeders: ChildProcess[] = [];

/** A processor from the CLI: the single one (embedded broker on `brokerPort`) or a cluster member. */
async function processor(name: string, config: ProcessorConfigInput): Promise<NodeService> {
  mkdirSync(join(dir, name), { recursive: true });
  const s = await NodeService.cloud(join(dir, name), { stateDir: join(dir, name, 'state'), ...config }, name);
  started.push(s);
  return s;
}

interface ModeResult {
  readonly mode: string;
  readonly windowsPerS: number;
  readonly processorUsPerWindow: number;
  readonly natsUsPerWindow: number;
  readonly influxdUsPerWindow: number;
  readonly processorCores: number;
}

/** Plays the fleet's warm-up rounds, then the timed ones, at `mqttUrl`; CPU of `pids` over the timed part. */
async function measure(
  mode: string,
  mqttUrl: string,
  procs: readonly NodeService[],
  natsPid: number | undefined,
): Promise<ModeResult> {
  const startMs = Math.floor((Date.now() - (warmup + rounds + 5) * 60_000) / 60_000) * 60_000;
  const pids = [...procs.map((p) => p.pid!), influxdPid, ...(natsPid === undefined ? [] : [natsPid])];
  const churn0 = await churn(procs);
  const fed: Fed = await runFeeder(
    ['mqtt', mqttUrl, values.series!, values.agents!, String(warmup), String(rounds), String(startMs)],
    pids,
  ).done;
  const procCpu = fed.cpu.slice(0, procs.length).reduce((a, b) => a + b, 0);
  const us = (cpu: number): number => r1((cpu * 1e6) / fed.windows);
  const r: ModeResult = {
    mode,
    windowsPerS: Math.round(fed.windows / fed.seconds),
    processorUsPerWindow: us(procCpu),
    influxdUsPerWindow: us(fed.cpu[procs.length]!),
    natsUsPerWindow: natsPid === undefined ? 0 : us(fed.cpu[procs.length + 1]!),
    processorCores: Math.round((procCpu / fed.seconds) * 100) / 100,
  };
  const moved = (await churn(procs)).map((v, i) => v - churn0[i]!);
  log(
    `  ${mode.padEnd(22)} ${String(r.windowsPerS).padStart(6)} windows/s; CPU per window: processors ${r.processorUsPerWindow} µs (${r.processorCores} cores), nats-server ${r.natsUsPerWindow} µs, influxd ${r.influxdUsPerWindow} µs; feeder ${(fed.feederCpu / fed.seconds).toFixed(2)} cores${natsPid === undefined ? '' : `; while timed: ${moved[0]} partitions handed over, ${moved[1]} snapshots (${Math.round(moved[2]! / 1e6)} MB)`}`,
  );
  return r;
}

/** Σ over members of partitions handed over, snapshots written and their bytes (zeros for the single processor). */
async function churn(procs: readonly NodeService[]): Promise<number[]> {
  const names = ['partitions_released', 'snapshots_written', 'snapshot_bytes'].map(
    (n) => `tributary_cloud_cluster_${n}_total`,
  );
  const sums = [0, 0, 0];
  for (const p of procs) for (const [i, n] of names.entries()) sums[i]! += await p.metric(n).catch(() => 0);
  return sums;
}

async function cluster(members: number, database: string): Promise<NodeService[]> {
  await nats?.stop();
  nats = await startNatsServer({ partitions: 64 });
  const procs = await Promise.all(
    Array.from({ length: members }, (_, i) =>
      processor(`${database}-p${i + 1}`, {
        influx: { url: influxd.url, database },
        cluster: { servers: [nats!.url], member: `p${i + 1}` },
      }),
    ),
  );
  await waitFor(
    'every partition owned',
    async () => {
      let owned = 0;
      for (const p of procs)
        owned += ((await (await fetch(`${p.url}/api/cluster`)).json()) as { owned: unknown[] }).owned.length;
      return owned === 64;
    },
    30_000,
    100,
  );
  return procs;
}

/** Partitions owned by each of `procs`, from /api/cluster. */
async function owned(procs: readonly NodeService[]): Promise<number[]> {
  return Promise.all(
    procs.map(async (p) => ((await (await fetch(`${p.url}/api/cluster`)).json()) as { owned: unknown[] }).owned.length),
  );
}

try {
  log(
    `${series} series from ${values.agents} agents, ${rounds} rounds of one window per series after ${warmup} untimed rounds; ${cpus().length} cores shared by every process`,
  );
  const results: ModeResult[] = [];
  const brokerPort = await freePort();
  const single = await processor('single', {
    broker: { type: 'embedded', host: '127.0.0.1', port: brokerPort },
    influx: { url: influxd.url, database: 'single' },
  });
  results.push(await measure('single process (aedes)', `mqtt://127.0.0.1:${brokerPort}`, [single], undefined));
  await single.stop();
  for (const members of [1, 2, 3]) {
    const procs = await cluster(members, `cluster${members}`);
    results.push(
      await measure(`cluster, ${members} member${members > 1 ? 's' : ' '}`, nats!.mqttUrl, procs, pidOf(nats!.dir)),
    );
    if (members < 3) for (const p of procs) await p.stop();
    else {
      // Takeovers under load: a long feeder run, one member killed and restarted each time.
      const load = runFeeder(
        [
          'mqtt',
          nats!.mqttUrl,
          String(LOAD_SERIES),
          values.agents!,
          '1',
          '400',
          String(Date.UTC(2020, 0, 1)),
          'load-gw',
        ],
        [],
      );
      feeders.push(load.child);
      load.done.catch((err: unknown) => log(`  (the load feeder stopped: ${(err as Error).message})`));
      await waitFor(
        'load on the cluster',
        async () => (await procs[0]!.metric('tributary_cloud_batches_written_total')) > 200,
        60_000,
        100,
      );
      const times: number[] = [];
      const replayed: number[] = [];
      for (let i = 0; i < Number(values.takeovers); i++) {
        const victim = procs[i % 3]!;
        const survivors = procs.filter((p) => p !== victim);
        const replayed0 = (
          await Promise.all(survivors.map((p) => p.metric('tributary_cloud_cluster_batches_replayed_total')))
        ).reduce((a, b) => a + b, 0);
        await victim.kill();
        const t0 = Date.now();
        await waitFor(
          'the survivors to own every partition',
          async () => (await owned(survivors)).reduce((a, b) => a + b, 0) === 64,
          30_000,
          25,
        ).catch((err: unknown) => {
          for (const s of survivors)
            log(
              `${s.name}:\n${s.output
                .split('\n')
                .filter((l) => l.includes('"level":40') || l.includes('"level":50'))
                .slice(-10)
                .join('\n')}`,
            );
          throw err;
        });
        times.push(Date.now() - t0);
        const replayed1 = (
          await Promise.all(survivors.map((p) => p.metric('tributary_cloud_cluster_batches_replayed_total')))
        ).reduce((a, b) => a + b, 0);
        replayed.push(replayed1 - replayed0);
        log(
          `  takeover ${i + 1}: every partition owned again ${times.at(-1)} ms after SIGKILL; ${replayed.at(-1)} batches replayed`,
        );
        await victim.start();
        // Shares of ceil(64 / 3) = 22: 22 + 22 + 20 is as balanced as 22 + 21 + 21.
        await waitFor(
          'the restarted member to own its share',
          async () => {
            const o = await owned(procs);
            return o.reduce((a, b) => a + b, 0) === 64 && o.every((n) => n >= 64 - 2 * 22);
          },
          60_000,
          100,
        );
      }
      load.child.kill();
      const sorted = [...times].sort((a, b) => a - b);
      const windowsPerBatch = LOAD_SERIES / Number(values.agents);
      const single0 = results[0]!.processorUsPerWindow;
      const c3 = results[3]!;
      log(
        `  takeover after SIGKILL (lease TTL 3 s): median ${sorted[Math.floor(sorted.length / 2)]} ms, worst ${sorted.at(-1)} ms; replay ${replayed.join(', ')} batches (~${Math.round(windowsPerBatch)} windows each)`,
      );
      const overhead = (100 * (results[1]!.processorUsPerWindow - single0)) / single0;
      log(
        `  per-window CPU of a clustered processor vs single: ${r1(overhead)} % (1 member), ${r1((100 * (c3.processorUsPerWindow - single0)) / single0)} % (3 members); target within 15 %`,
      );
      const perCore = 1e6 / results[1]!.processorUsPerWindow;
      log(
        `  2 cores cannot show a linear speed-up: nats-server, influxd and the feeder share them with the members. From the per-window cost, N members on N cores of their own would take ~${Math.round(perCore)} × N windows/s (${Math.round(perCore * 3)} with 3), until InfluxDB (${results[1]!.influxdUsPerWindow} µs a window here) or nats-server (${results[1]!.natsUsPerWindow} µs) is the limit`,
      );
      process.stdout.write(
        `${JSON.stringify({
          series,
          agents: Number(values.agents),
          windows_timed_per_mode: series * rounds,
          ...Object.fromEntries(
            results.flatMap((r, i) => {
              const key = ['single', 'cluster1', 'cluster2', 'cluster3'][i]!;
              return [
                [`${key}_windows_per_s`, r.windowsPerS],
                [`${key}_processor_cpu_us_per_window`, r.processorUsPerWindow],
                [`${key}_nats_cpu_us_per_window`, r.natsUsPerWindow],
                [`${key}_influxd_cpu_us_per_window`, r.influxdUsPerWindow],
              ];
            }),
          ),
          cluster1_vs_single_cpu_per_window_percent: r1(overhead),
          cluster3_vs_single_cpu_per_window_percent: r1((100 * (c3.processorUsPerWindow - single0)) / single0),
          takeover_median_ms: sorted[Math.floor(sorted.length / 2)],
          takeover_worst_ms: sorted.at(-1),
          takeovers: times.length,
          replay_batches_per_takeover: replayed,
          replay_windows_per_batch: Math.round(windowsPerBatch),
          projected_windows_per_s_one_member_per_core: Math.round(perCore),
        })}\n`,
      );
    }
  }
} finally {
  for (const f of feeders) f.kill();
  for (const s of started) await s.kill();
  await nats?.stop();
  await influxd.stop();
  rmSync(dir, { recursive: true, force: true });
}
