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
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '@tributary/device-simulator';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { residentBytes } from '../harness/mqtt-raw.js';
import { metric, scrape } from '../harness/metrics.js';
import { freePort } from '../harness/ports.js';
import { NodeService } from '../harness/processes.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { accountReadings, flatness, type Flatness } from './soak/account.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10m' }, short: { type: 'boolean', default: false }, factor: { type: 'string', default: '3' }, devices: { type: 'string', default: '500' }, calibrate: { type: 'string', default: '20s' } } });
const durationMs = values.short ? 60_000 : parseDuration(values.duration);
const calibrateMs = values.short ? 10_000 : parseDuration(values.calibrate);
const factor = Number(values.factor);
const devices = Number(values.devices);
if (durationMs === undefined || calibrateMs === undefined || !(factor > 0) || !(devices >= 1)) {
  process.stderr.write('usage: soak.js [--duration 10m] [--short] [--factor 3] [--devices 500] [--calibrate 20s]\n');
  process.exit(2);
}
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const READINGS_PER_MESSAGE = 4;
const CONNECTIONS = 4;
const MiB = 1024 * 1024;
const loadScript = fileURLToPath(new URL('./soak/load.js', import.meta.url));

/** Runs the load generator; `onSecond` hears of its progress; resolves with its final line. */
function runLoad(port: number, rate: number, ms: number, onSecond: (messages: number) => void = () => undefined): Promise<{ messages: number; behindMs: number; seconds: number }> {
  const child = spawn(process.execPath, [loadScript, String(port), String(Math.round(rate)), String(ms), String(devices), String(CONNECTIONS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last: { messages: number; behindMs: number; seconds: number } | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const o = JSON.parse(line) as { done?: boolean; messages: number; behindMs: number; seconds: number };
    if (o.done) last = o;
    else onSecond(o.messages);
  });
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 && last ? resolve(last) : reject(new Error(`load generator exited ${code}`)))));
}

const dir = scratchDir('soak');
const influxd = await startInfluxd();
const brokerPort = await freePort();
const brokerUrl = `mqtt://127.0.0.1:${brokerPort}`;
const cloud = await NodeService.cloud(dir, {
  broker: { type: 'embedded', host: '127.0.0.1', port: brokerPort },
  influx: { url: influxd.url, database: 'soak' },
  // Detector state fills within 2 minutes of 10 s windows, so memory after warm-up is the steady
  // state (the default ensemble fills its novelty memory over 128 windows: 21 minutes here).
  detection: { detector: 'robust-zscore', settings: { historyWindows: 12 } },
  stateDir: join(dir, 'cloud'),
  log: { level: 'warn' },
});

async function startAgent(agentId: string, maxMessagesPerS?: number): Promise<{ service: NodeService; port: number }> {
  const port = await freePort();
  const agentDir = join(dir, agentId);
  mkdirSync(agentDir, { recursive: true });
  const service = await NodeService.agent(agentDir, {
    agentId,
    sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port, maxClients: 100 }],
    windows: { lengthMs: 10_000, allowedLatenessMs: 2_000, maxSeries: devices * READINGS_PER_MESSAGE + 100 },
    ...(maxMessagesPerS === undefined ? {} : { intake: { maxMessagesPerS } }),
    batch: { maxDelayMs: 500 },
    uplink: { type: 'mqtt', url: brokerUrl },
    stateDir: join(agentDir, 'state'),
    log: { level: 'warn' },
  });
  return { service, port };
}

const counters = async (service: NodeService): Promise<(name: string) => number> => {
  const m = await scrape(`${service.url}/metrics`);
  return (name) => metric(m, `tributary_agent_${name}`);
};

try {
  // 1. What the agent sustains: readings offered as fast as it takes them, every stage on.
  log(`calibrating: the agent's sustainable rate, ${calibrateMs / 1000} s as fast as it takes readings (${devices} devices × ${READINGS_PER_MESSAGE} metrics)`);
  const cal = await startAgent('soak-calibration');
  const marks: Array<{ at: number; accepted: number }> = [];
  await runLoad(cal.port, 0, calibrateMs, () => void counters(cal.service).then((c) => marks.push({ at: Date.now(), accepted: c('readings_accepted_total') })));
  const settled = marks.filter((m) => m.at >= marks[0]!.at + calibrateMs / 4);
  const sustained = (settled.at(-1)!.accepted - settled[0]!.accepted) / ((settled.at(-1)!.at - settled[0]!.at) / 1000);
  await cal.service.stop(60_000);
  const sustainedMsgs = sustained / READINGS_PER_MESSAGE;
  log(`  the agent sustains ${Math.round(sustained)} readings/s (${Math.round(sustainedMsgs)} messages/s): its load shedding is set to that`);

  // 2. The soak: factor × that rate, memory sampled each second.
  const agent = await startAgent('soak', Math.round(sustainedMsgs));
  const offeredRate = factor * sustainedMsgs;
  log(`soak: ${factor}× = ${Math.round(offeredRate * READINGS_PER_MESSAGE)} readings/s offered for ${durationMs / 1000} s`);
  const samples: Array<{ s: number; agent: number; cloud: number }> = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    void Promise.all([residentBytes(agent.service.pid!), residentBytes(cloud.pid!)]).then(([a, c]) => samples.push({ s: (Date.now() - t0) / 1000, agent: a, cloud: c }), () => undefined);
  }, 1_000);
  let lastLog = Date.now();
  const load = await runLoad(agent.port, offeredRate, durationMs, (messages) => {
    if (Date.now() - lastLog < 60_000) return;
    lastLog = Date.now();
    const s = samples.at(-1);
    log(`  ${Math.round((Date.now() - t0) / 1000)} s: ${messages} messages offered; resident memory agent ${s ? (s.agent / MiB).toFixed(0) : '?'} MB, processor ${s ? (s.cloud / MiB).toFixed(0) : '?'} MB`);
  });
  clearInterval(sampler);
  await waitFor('the agent to have read every message offered', async () => (await counters(agent.service))('messages_received_total') === load.messages, 120_000, 250);
  const c = await counters(agent.service);
  await agent.service.stop(120_000); // flushes the open windows and waits for the cloud's acks
  const account = accountReadings(load.messages * READINGS_PER_MESSAGE, READINGS_PER_MESSAGE, c);
  const sumInInflux = async (): Promise<number> => {
    const rows = await influxQuery(influxd.url, 'soak', `SELECT sum("count") FROM "temperature","humidity","pressure","co2" WHERE "agent" = 'soak'`);
    return rows.reduce((n, s) => n + Number(s.values[0]?.[1] ?? 0), 0);
  };
  let inInflux = 0;
  await waitFor('Σ count in InfluxDB to reach the readings accepted', async () => (inInflux = await sumInInflux()) >= account.accepted, 60_000, 500).catch(() => undefined);

  const warmupS = Math.min(120, durationMs / 1000 / 5);
  const agentMem: Flatness = flatness(samples.map((x) => ({ s: x.s, bytes: x.agent })), warmupS);
  const cloudMem: Flatness = flatness(samples.map((x) => ({ s: x.s, bytes: x.cloud })), warmupS);
  const secs = load.seconds;
  log(`  offered ${account.offered} readings (${Math.round(account.offered / secs)}/s, ${(account.offered / secs / sustained).toFixed(2)}× the ${Math.round(sustained)}/s sustained; generator behind by ${load.behindMs} ms in all)`);
  log(`  accepted ${account.accepted} (${Math.round(account.accepted / secs)}/s), shed at the door ${account.shed}, other counted drops ${account.dropped}, unaccounted ${account.unaccounted}`);
  log(`  Σ count in InfluxDB ${inInflux} (accepted ${account.accepted})`);
  log(`  resident memory after a ${warmupS} s warm-up: agent ${agentMem.firstMb}→${agentMem.lastMb} MB (first vs last minute, ${agentMem.growthPct}%; ${agentMem.minMb}–${agentMem.maxMb} MB), processor ${cloudMem.firstMb}→${cloudMem.lastMb} MB (${cloudMem.growthPct}%; ${cloudMem.minMb}–${cloudMem.maxMb} MB)`);
  const flat = Math.abs(agentMem.growthPct) <= 10 && Math.abs(cloudMem.growthPct) <= 10;
  log(`  ${flat ? 'flat within 10 %' : 'NOT flat within 10 %'}; ${account.unaccounted === 0 && inInflux === account.accepted ? 'every reading accounted for' : 'readings unaccounted for'}`);
  process.stdout.write(
    `${JSON.stringify({
      duration_s: Math.round(secs),
      factor,
      agent_sustained_readings_per_s: Math.round(sustained),
      offered_readings_per_s: Math.round(account.offered / secs),
      accepted_readings_per_s: Math.round(account.accepted / secs),
      readings_offered: account.offered,
      readings_accepted: account.accepted,
      readings_shed: account.shed,
      readings_dropped_counted: account.dropped,
      readings_unaccounted: account.unaccounted,
      influx_sum_count: inInflux,
      agent_rss_mb_first_minute: agentMem.firstMb,
      agent_rss_mb_last_minute: agentMem.lastMb,
      agent_rss_growth_pct: agentMem.growthPct,
      agent_rss_mb_max: agentMem.maxMb,
      processor_rss_mb_first_minute: cloudMem.firstMb,
      processor_rss_mb_last_minute: cloudMem.lastMb,
      processor_rss_growth_pct: cloudMem.growthPct,
      processor_rss_mb_max: cloudMem.maxMb,
      warmup_s: warmupS,
      rss_samples: samples.length,
      flat_within_10_pct: flat,
    })}\n`,
  );
} finally {
  await cloud.stop(60_000);
  await influxd.stop();
}
