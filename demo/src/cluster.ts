#!/usr/bin/env node
/**
 * npm run cluster [-- --processors 3 --agents 4 --devices 40 --duration 1d --seconds 60 --seed 1]
 *
 * Scale-out on one machine: nats-server (JetStream with a file store in a temporary directory, its
 * MQTT listener and the partition mapping, on loopback), three cloud processors as cluster members
 * (each its own process from the CLI, with /api/cluster and /metrics), and the demo fleet: one
 * edge agent per site with its own gateway broker that the site's simulated devices publish to,
 * sending batches over MQTT to nats-server. Prints alerts, each member's partitions and lag every
 * few seconds, and a summary. InfluxDB: INFLUX_URL when set, else a private influxd. Ctrl-C stops.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EdgeAgent } from '@tributary/edge-agent';
import {
  Fleet,
  MqttTransport,
  parseDuration,
  SimClock,
  Simulator,
  defaultAnomalyKinds,
} from '@tributary/device-simulator';
import { AgentConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { connect } from 'nats';
import { readingsStored } from '@tributary/storage';
import { INFLUXD_MISSING, startInfluxd, type Influxd } from '@tributary/test/harness/influxd.js';
import { NATS_SERVER_MISSING, startNatsServer } from '@tributary/test/harness/nats-server.js';
import { freePort } from '@tributary/test/harness/ports.js';
import { NodeService } from '@tributary/test/harness/processes.js';
import { which } from '@tributary/test/harness/which.js';
import { formatAlert } from './format.js';

const { values } = parseArgs({
  options: {
    processors: { type: 'string', default: '3' },
    agents: { type: 'string', default: '4' },
    devices: { type: 'string', default: '40' },
    duration: { type: 'string', default: '1d' },
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
  },
});
const out = (line: string): boolean => process.stdout.write(`${line}\n`);
function die(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
const [processors, agents, devices, seconds] = [values.processors, values.agents, values.devices, values.seconds].map(
  Number,
) as [number, number, number, number];
const durationMs = parseDuration(values.duration);
if (![processors, agents, devices].every((n) => Number.isInteger(n) && n >= 1))
  die('--processors, --agents and --devices must be positive integers');
if (durationMs === undefined || !(seconds > 0))
  die('--duration must be a duration such as 6h or 1d, --seconds positive');
if (which('nats-server') === undefined) die(`tributary cluster demo: ${NATS_SERVER_MISSING}`);

const dir = mkdtempSync(join(tmpdir(), 'tributary-cluster-demo-'));
let influxd: Influxd | undefined;
let influxUrl = process.env.INFLUX_URL;
if (influxUrl === undefined) {
  if (which('influxd') === undefined) die(`tributary cluster demo: ${INFLUXD_MISSING}`);
  influxd = await startInfluxd();
  influxUrl = influxd.url;
}
const nats = await startNatsServer({ partitions: 64 });
const members = new Map<string, NodeService>();
for (let i = 1; i <= processors; i++) {
  const member = `p${i}`;
  mkdirSync(join(dir, member));
  const config = {
    influx: { url: influxUrl, database: 'tributary' },
    stateDir: join(dir, member, 'state'),
    cluster: { servers: [nats.url], member },
  };
  members.set(member, await NodeService.cloud(join(dir, member), config, member));
}
out(
  `Tributary cluster demo: ${devices} devices at ${agents} sites → ${agents} edge agents → nats-server ${nats.url} (MQTT ${nats.mqttUrl}, JetStream in ${nats.dir}) → ${processors} processors → InfluxDB ${influxUrl}`,
);
for (const [m, s] of members) out(`  ${m}: ${s.url}/api/cluster  ${s.url}/metrics`);

const alerts: AlertEvent[] = [];
const watcher = await connect({ servers: nats.url });
watcher.subscribe('tributary.v1.alerts.>', {
  callback: (err, msg) =>
    err === null && (alerts.push(msg.json<AlertEvent>()), out(formatAlert(msg.json<AlertEvent>()))),
});

// One agent per site, each with its gateway broker; the site's devices publish to it.
const windowMs = 5 * 60_000;
const speed = durationMs / (seconds * 1000);
const startMs = Math.floor((Date.now() - durationMs) / windowMs) * windowMs;
const sites = Array.from({ length: agents }, (_, i) => `site-${i + 1}`);
const running: Array<{ agent: EdgeAgent; sim: Simulator; done: Promise<void> }> = [];
for (const site of sites) {
  const port = await freePort();
  const config = AgentConfigSchema.parse({
    agentId: `gw-${site}`,
    site,
    sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port }],
    windows: { lengthMs: windowMs, allowedLatenessMs: 30_000 },
    batch: { maxWindows: 200, maxDelayMs: 300 },
    uplink: { type: 'mqtt', url: nats.mqttUrl, ackTimeoutMs: 5_000, backoff: { initialMs: 100, maxMs: 2_000 } },
    stateDir: join(dir, site),
  });
  const agent = new EdgeAgent({ config, stateDir: join(dir, site), log: silentLogger });
  await agent.start();
  const fleet = new Fleet({
    devices,
    seed: values.seed,
    startMs,
    durationMs,
    samplePeriodMs: 15_000,
    sites,
    site,
    anomalies: { ratePerDay: 0.5, kinds: defaultAnomalyKinds, warmupMs: 2 * 3_600_000, gapMs: 3_600_000 },
  });
  const transport = await MqttTransport.connect({ url: `mqtt://127.0.0.1:${port}`, qos: 1 });
  const sim = new Simulator(fleet, new SimClock(startMs, speed), transport);
  running.push({ agent, sim, done: sim.run().then(() => transport.close()) });
}
process.on('SIGINT', () => running.forEach((r) => r.sim.stop()));

const report = async (): Promise<void> => {
  const parts: string[] = [];
  for (const [m, s] of members) {
    if (!s.running) continue;
    const view = (await (await fetch(`${s.url}/api/cluster`)).json()) as {
      owned: Array<{ lag: number }>;
      counters: Record<string, number>;
    };
    parts.push(
      `${m} owns ${view.owned.length} (lag ${view.owned.reduce((n, p) => n + p.lag, 0)}, taken over ${view.counters.partitions_taken_over ?? 0})`,
    );
  }
  const accepted = running.reduce((n, r) => n + r.agent.counters.get('readings_accepted'), 0);
  out(
    `  … accepted ${accepted} readings, ${alerts.filter((a) => a.state === 'opened').length} alerts opened; ${parts.join('; ')}`,
  );
};
const timer = setInterval(() => void report().catch(() => undefined), 5_000);
await Promise.all(running.map((r) => r.done));
clearInterval(timer);
const stopped = await Promise.all(running.map((r) => r.agent.stop(30_000)));
await report();
const accepted = running.reduce((n, r) => n + r.agent.counters.get('readings_accepted'), 0);
const inInflux = await readingsStored({ url: influxUrl, database: 'tributary' }, [
  'temperature',
  'humidity',
  'vibration',
]);
out(
  `\nSummary\n  readings accepted    ${accepted}\n  readings in InfluxDB ${inInflux}${inInflux === accepted ? ' (equal)' : ' (DIFFERENT)'}\n  alerts opened        ${alerts.filter((a) => a.state === 'opened').length}${stopped.every((s) => s.drained) ? '' : '\n  warning: an agent stopped before every batch was acked'}`,
);
writeFileSync(join(dir, 'alerts.jsonl'), alerts.map((a) => `${JSON.stringify(a)}\n`).join(''));
await watcher.close();
for (const s of members.values()) await s.stop();
await nats.stop();
await influxd?.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
