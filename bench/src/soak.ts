#!/usr/bin/env node
/**
 * npm run bench:soak [-- --duration 10m] [-- --short] [-- --factor 3] [-- --devices 500]
 *
 * Soak under overload (issue 21): an edge agent (its mqtt-broker source, load shedding at the door
 * set to what it sustains) and a cloud processor writing to a real influxd, each its own process.
 * First the agent's sustainable rate is measured in this run (as fast as it takes readings, with
 * every stage of its pipeline); then `factor` times that rate is offered for `duration`, and the
 * resident memory of the agent and the processor is sampled each second. It reports whether
 * memory stayed flat within 10 % after the warm-up, and accounts for every reading offered:
 * accepted + shed at the door + counted drops, and Σ count in InfluxDB = accepted. Ends with one
 * line of JSON. `--short` is a one-minute smoke run. Not in `npm run bench`: ten minutes by default.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '@tributary/device-simulator';
import { commandLineError, parseCommandLine } from '@tributary/runtime';
import { influxQuery, startInfluxd } from '@tributary/test/harness/influxd.js';
import { residentBytes } from '@tributary/test/harness/mqtt-raw.js';
import { metric, scrape } from '@tributary/test/harness/metrics.js';
import { freePort } from '@tributary/test/harness/ports.js';
import { NodeService } from '@tributary/test/harness/processes.js';
import { scratchDir } from '@tributary/test/harness/scratch.js';
import { waitFor } from '@tributary/test/harness/wait.js';
import { accountReadings, flatness, soakMetrics, type Flatness } from './soak/account.js';

const USAGE = `usage: npm run bench:soak [-- OPTIONS]

Soak under overload: the agent's sustainable rate measured first, then FACTOR times it offered for
DURATION through its mqtt-broker source (load shedding at the door), into a cloud processor and
InfluxDB: resident memory of both each second, flat or not, and every reading offered accounted
for. Ends with one line of JSON (docs/benchmarks.md). Not in npm run bench.

      --duration D           how long the overload lasts (10m)
      --short                a one-minute smoke run (and a 10 s calibration)
      --factor X             times the sustainable rate offered (3)
      --devices N            devices publishing (500)
      --metrics N            readings per message, 1-64 (32)
      --limit X              intake.maxMessagesPerS as a fraction of the sustainable rate, 0-1 (0.33)
      --calibrate D          how long the sustainable rate is measured (20s)
      --max-old-space-mb N   caps V8's old generation of both processes
  -h, --help                 prints this and exits
`;

const { values } = parseCommandLine('bench:soak', USAGE, {
  options: {
    duration: { type: 'string', default: '10m' },
    short: { type: 'boolean', default: false },
    factor: { type: 'string', default: '3' },
    devices: { type: 'string', default: '500' },
    metrics: { type: 'string', default: '32' },
    limit: { type: 'string', default: '0.33' },
    calibrate: { type: 'string', default: '20s' },
    'max-old-space-mb': { type: 'string' },
  },
});
const durationMs = values.short ? 60_000 : parseDuration(values.duration);
const calibrateMs = values.short ? 10_000 : parseDuration(values.calibrate);
const factor = Number(values.factor);
const devices = Number(values.devices);
/** Readings per message: shedding saves a message's decoding and windowing, not its MQTT parsing, so it pays more the more readings a message carries. */
const READINGS_PER_MESSAGE = Number(values.metrics);
/**
 * intake.maxMessagesPerS as a fraction of the sustained rate. Not 1: at the rate it sustains the
 * agent has no CPU left to read and shed what comes on top (shedding saves a message's decoding
 * and windowing, not its MQTT parsing); the door's own figure below says how much it needs.
 */
const limit = Number(values.limit);
if (durationMs === undefined)
  commandLineError('bench:soak', USAGE, `--duration ${values.duration} is not a duration (e.g. 10m)`);
if (calibrateMs === undefined)
  commandLineError('bench:soak', USAGE, `--calibrate ${values.calibrate} is not a duration (e.g. 20s)`);
const outOfRange = [
  ...(factor > 0 ? [] : [`--factor ${values.factor} (more than 0)`]),
  ...(devices >= 1 ? [] : [`--devices ${values.devices} (at least 1)`]),
  ...(READINGS_PER_MESSAGE >= 1 && READINGS_PER_MESSAGE <= 64 ? [] : [`--metrics ${values.metrics} (1 to 64)`]),
  ...(limit > 0 && limit <= 1 ? [] : [`--limit ${values.limit} (more than 0, at most 1)`]),
];
if (outOfRange.length > 0) commandLineError('bench:soak', USAGE, `out of range: ${outOfRange.join(', ')}`);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
/** Node flags of both processes besides their units' own: a cap on V8's old generation, when given (it then collects before it grows). */
const heapCap =
  values['max-old-space-mb'] === undefined ? [] : [`--max-old-space-size=${Number(values['max-old-space-mb'])}`];
/** The agent's systemd unit gives it a young generation of 4 MB a semi-space (edge-agent/service/tributary-agent.service). */
const AGENT_UNIT_FLAGS = ['--max-semi-space-size=4'];
const CONNECTIONS = 4;
const MiB = 1024 * 1024;
const loadScript = fileURLToPath(new URL('./soak/load.js', import.meta.url));

/** Runs the load generator; `onSecond` hears of its progress; resolves with its final line. */
function runLoad(
  port: number,
  rate: number,
  ms: number,
  onSecond: (messages: number) => void = () => undefined,
  signal?: AbortSignal,
): Promise<{ messages: number; behindMs: number; seconds: number }> {
  const child = spawn(
    process.execPath,
    [
      loadScript,
      String(port),
      String(Math.round(rate)),
      String(ms),
      String(devices),
      String(CONNECTIONS),
      String(READINGS_PER_MESSAGE),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], ...(signal && { signal }) },
  );
  child.on('error', () => undefined); // an abort: the exit below says so
  let last: { messages: number; behindMs: number; seconds: number } | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const o = JSON.parse(line) as { done?: boolean; messages: number; behindMs: number; seconds: number };
    if (o.done) last = o;
    else onSecond(o.messages);
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 && last ? resolve(last) : reject(new Error(`load generator exited ${code}`)),
    ),
  );
}

const loadAtStart = Math.round(loadavg()[0]! * 10) / 10;
const dir = scratchDir('soak');
const influxd = await startInfluxd();
const brokerPort = await freePort();
const brokerUrl = `mqtt://127.0.0.1:${brokerPort}`;
const cloud = await NodeService.cloud(
  dir,
  {
    broker: { type: 'embedded', host: '127.0.0.1', port: brokerPort },
    influx: { url: influxd.url, database: 'soak' },
    // Detector state fills within 2 minutes of 10 s windows, so memory after warm-up is the steady
    // state (the default ensemble fills its novelty memory over 128 windows: 21 minutes here).
    detection: { detector: 'robust-zscore', settings: { historyWindows: 12 } },
    stateDir: join(dir, 'cloud'),
    log: { level: 'warn' },
  },
  'cloud',
  heapCap,
);

/** Every agent started, stopped at the end whatever happens. */
const agents: NodeService[] = [];

async function startAgent(agentId: string, maxMessagesPerS?: number): Promise<{ service: NodeService; port: number }> {
  const port = await freePort();
  const agentDir = join(dir, agentId);
  mkdirSync(agentDir, { recursive: true });
  const service = await NodeService.agent(
    agentDir,
    {
      agentId,
      sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port, maxClients: 100 }],
      windows: { lengthMs: 10_000, allowedLatenessMs: 2_000, maxSeries: devices * READINGS_PER_MESSAGE + 100 },
      ...(maxMessagesPerS === undefined ? {} : { intake: { maxMessagesPerS } }),
      batch: { maxDelayMs: 500 },
      uplink: { type: 'mqtt', url: brokerUrl },
      stateDir: join(agentDir, 'state'),
      log: { level: 'warn' },
    },
    [...AGENT_UNIT_FLAGS, ...heapCap],
  );
  agents.push(service);
  return { service, port };
}

const counters = async (service: NodeService): Promise<(name: string) => number> => {
  const m = await scrape(`${service.url}/metrics`);
  return (name) => metric(m, `tributary_agent_${name}`);
};

try {
  // 1. What the agent sustains: readings offered as fast as it takes them, every stage on; and,
  // for reference, how many messages its door takes when it sheds them all.
  log(
    `calibrating: the agent's sustainable rate, ${calibrateMs / 1000} s as fast as it takes readings (${devices} devices × ${READINGS_PER_MESSAGE} metrics a message)`,
  );
  const rateOf = async (agentId: string, counter: string, maxMessagesPerS?: number): Promise<number> => {
    const cal = await startAgent(agentId, maxMessagesPerS);
    const marks: Array<{ at: number; n: number }> = [];
    await runLoad(
      cal.port,
      0,
      calibrateMs,
      () => void counters(cal.service).then((c) => marks.push({ at: Date.now(), n: c(counter) })),
    );
    await cal.service.stop(60_000);
    const settled = marks.filter((m) => m.at >= marks[0]!.at + calibrateMs / 4);
    return (settled.at(-1)!.n - settled[0]!.n) / ((settled.at(-1)!.at - settled[0]!.at) / 1000);
  };
  const sustained = await rateOf('soak-calibration', 'readings_accepted_total');
  const sustainedMsgs = sustained / READINGS_PER_MESSAGE;
  log(`  the agent sustains ${Math.round(sustained)} readings/s (${Math.round(sustainedMsgs)} messages/s)`);
  const door = await rateOf('soak-door', 'messages_received_total', 1);
  log(
    `  shedding every message, its door takes ${Math.round(door)} messages/s (${(door / sustainedMsgs).toFixed(2)}× the sustained rate): MQTT parsing is not saved by shedding`,
  );

  // 2. The soak: factor × that rate, the door set to `limit` of it, memory sampled each second.
  const agent = await startAgent('soak', Math.round(limit * sustainedMsgs));
  log(`  intake.maxMessagesPerS: ${Math.round(limit * sustainedMsgs)} (${limit} of the sustained rate)`);
  const offeredRate = factor * sustainedMsgs;
  log(
    `soak: ${factor}× = ${Math.round(offeredRate * READINGS_PER_MESSAGE)} readings/s offered for ${durationMs / 1000} s`,
  );
  const samples: Array<{ s: number; agent: number; cloud: number }> = [];
  const t0 = Date.now();
  let died: string | undefined;
  const stopLoad = new AbortController();
  const sampler = setInterval(() => {
    // A process that died ends the soak with its last words (resident memory of the living is not a figure then).
    for (const [name, p] of [
      ['agent', agent.service],
      ['processor', cloud],
    ] as const)
      if (!p.running && died === undefined) died = `the ${name} died: ${p.output.slice(-3000)}`;
    if (died !== undefined) return stopLoad.abort();
    void Promise.all([residentBytes(agent.service.pid!), residentBytes(cloud.pid!)]).then(
      ([a, c]) => samples.push({ s: (Date.now() - t0) / 1000, agent: a, cloud: c }),
      () => undefined,
    );
  }, 1_000);
  let lastLog = Date.now();
  const load = await runLoad(
    agent.port,
    offeredRate,
    durationMs,
    (messages) => {
      if (Date.now() - lastLog < 60_000) return;
      lastLog = Date.now();
      const s = samples.at(-1);
      log(
        `  ${Math.round((Date.now() - t0) / 1000)} s: ${messages} messages offered; resident memory agent ${s ? (s.agent / MiB).toFixed(0) : '?'} MB, processor ${s ? (s.cloud / MiB).toFixed(0) : '?'} MB`,
      );
    },
    stopLoad.signal,
  ).catch((err: unknown) => {
    clearInterval(sampler);
    throw new Error(died ?? (err as Error).message);
  });
  clearInterval(sampler);
  if (died !== undefined) throw new Error(died);
  await waitFor(
    'the agent to have read every message offered',
    async () => (await counters(agent.service))('messages_received_total') === load.messages,
    120_000,
    250,
  );
  const c = await counters(agent.service);
  await agent.service.stop(120_000); // flushes the open windows and waits for the cloud's acks
  const account = accountReadings(load.messages * READINGS_PER_MESSAGE, READINGS_PER_MESSAGE, c);
  const sumInInflux = async (): Promise<number> => {
    const rows = await influxQuery(
      influxd.url,
      'soak',
      `SELECT sum("count") FROM ${soakMetrics(READINGS_PER_MESSAGE)
        .map((m) => `"${m}"`)
        .join(',')} WHERE "agent" = 'soak'`,
    );
    return rows.reduce((n, s) => n + Number(s.values[0]?.[1] ?? 0), 0);
  };
  let inInflux = 0;
  await waitFor(
    'Σ count in InfluxDB to reach the readings accepted',
    async () => (inInflux = await sumInInflux()) >= account.accepted,
    60_000,
    500,
  ).catch(() => undefined);

  const warmupS = Math.min(120, durationMs / 1000 / 5);
  const agentMem: Flatness = flatness(
    samples.map((x) => ({ s: x.s, bytes: x.agent })),
    warmupS,
  );
  const cloudMem: Flatness = flatness(
    samples.map((x) => ({ s: x.s, bytes: x.cloud })),
    warmupS,
  );
  const secs = load.seconds;
  log(
    `  offered ${account.offered} readings (${Math.round(account.offered / secs)}/s, ${(account.offered / secs / sustained).toFixed(2)}× the ${Math.round(sustained)}/s sustained; generator behind by ${load.behindMs} ms in all)`,
  );
  log(
    `  accepted ${account.accepted} (${Math.round(account.accepted / secs)}/s), shed at the door ${account.shed}, other counted drops ${account.dropped}, unaccounted ${account.unaccounted}`,
  );
  log(`  Σ count in InfluxDB ${inInflux} (accepted ${account.accepted})`);
  log(
    `  resident memory after a ${warmupS} s warm-up, min / mean / max MB per stretch${heapCap.length > 0 ? ` (${heapCap.join(' ')})` : ''}:`,
  );
  for (const [name, m] of [
    ['agent', agentMem],
    ['processor', cloudMem],
  ] as const) {
    log(
      `    ${name.padEnd(9)} ${m.buckets.map((b) => `${b.fromS}s ${b.minMb.toFixed(0)}/${b.meanMb.toFixed(0)}/${b.maxMb.toFixed(0)}`).join('  ')}`,
    );
    log(`    ${''.padEnd(9)} last stretch against the first: means ${m.meanGrowthPct}%, floors ${m.floorGrowthPct}%`);
  }
  const within = (m: Flatness): boolean => Math.abs(m.meanGrowthPct) <= 10 && Math.abs(m.floorGrowthPct) <= 10;
  const flat = within(agentMem) && within(cloudMem);
  log(
    `  ${flat ? 'flat within 10 % (means and floors)' : 'NOT flat within 10 % (means and floors)'}; ${account.unaccounted === 0 && inInflux === account.accepted ? 'every reading accounted for' : 'readings unaccounted for'}`,
  );
  process.stdout.write(
    `${JSON.stringify({
      duration_s: Math.round(secs),
      factor,
      readings_per_message: READINGS_PER_MESSAGE,
      agent_sustained_readings_per_s: Math.round(sustained),
      agent_door_messages_per_s_shedding_all: Math.round(door),
      intake_max_messages_per_s: Math.round(limit * sustainedMsgs),
      offered_factor: Math.round((account.offered / secs / sustained) * 100) / 100,
      offered_readings_per_s: Math.round(account.offered / secs),
      accepted_readings_per_s: Math.round(account.accepted / secs),
      readings_offered: account.offered,
      readings_accepted: account.accepted,
      readings_shed: account.shed,
      readings_dropped_counted: account.dropped,
      readings_unaccounted: account.unaccounted,
      influx_sum_count: inInflux,
      agent_rss_mb_first_stretch_mean: agentMem.buckets[0]!.meanMb,
      agent_rss_mb_last_stretch_mean: agentMem.buckets.at(-1)!.meanMb,
      agent_rss_mean_growth_pct: agentMem.meanGrowthPct,
      agent_rss_floor_growth_pct: agentMem.floorGrowthPct,
      agent_rss_mb_max: agentMem.maxMb,
      processor_rss_mb_first_stretch_mean: cloudMem.buckets[0]!.meanMb,
      processor_rss_mb_last_stretch_mean: cloudMem.buckets.at(-1)!.meanMb,
      processor_rss_mean_growth_pct: cloudMem.meanGrowthPct,
      processor_rss_floor_growth_pct: cloudMem.floorGrowthPct,
      processor_rss_mb_max: cloudMem.maxMb,
      max_old_space_mb: values['max-old-space-mb'] === undefined ? null : Number(values['max-old-space-mb']),
      warmup_s: warmupS,
      rss_samples: samples.length,
      flat_within_10_pct: flat,
      // Others' work on this machine, for reading the figures (cores shared).
      load_avg_1m_at_start: loadAtStart,
      load_avg_1m_at_end: Math.round(loadavg()[0]! * 10) / 10,
    })}\n`,
  );
} finally {
  for (const a of agents) if (a.running) await a.stop(10_000);
  await cloud.stop(60_000);
  await influxd.stop();
}
