#!/usr/bin/env node
/**
 * npm start [-- --realtime] [-- --devices 50 --duration 1d --seconds 60 --seed 1]
 *
 * The whole pipeline on one machine: the cloud processor with its embedded MQTT broker, one edge
 * agent and a simulated fleet, writing to InfluxDB. By default it plays the simulated day that
 * just ended in about a minute and prints a summary; `--realtime` keeps it running in real time
 * until Ctrl-C. InfluxDB: INFLUX_URL when set, else a private influxd on a free loopback port.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anomalyKinds, parseDuration, type AnomalyKind } from '@tributary/device-simulator';
import { LATENCY_BUCKETS_S, parseCommandLine } from '@tributary/runtime';
import { pino } from 'pino';
import { INFLUXD_MISSING, startInfluxd, type Influxd } from '@tributary/test/harness/influxd.js';
import { Pipeline } from '@tributary/test/harness/pipeline.js';
import { which } from '@tributary/test/harness/which.js';
import { formatAlert, formatSummary } from './format.js';

const USAGE = `usage: npm start [-- --realtime] [-- --devices 50 --duration 1d --seconds 60 --seed 1]

The whole pipeline on this machine: a simulated fleet, an edge agent, the cloud processor and
InfluxDB (INFLUX_URL, or a private influxd). Plays the simulated day that just ended in about a
minute and prints a summary.

  --realtime          runs in real time until Ctrl-C instead
  --devices N         simulated devices (50)
  --duration 1d       simulated time to play (1d)
  --seconds 60        wall-clock seconds to play it in (60)
  --seed N            the fleet's random seed (1)
  --anomalies a,b     anomaly kinds to inject (all: ${anomalyKinds.join(',')})
  --log-level LEVEL   the pipeline's log level (error)
  -h, --help          prints this and exits
`;

const { values } = parseCommandLine('npm start', USAGE, {
  options: {
    realtime: { type: 'boolean', default: false },
    devices: { type: 'string', default: '50' },
    duration: { type: 'string', default: '1d' },
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    anomalies: { type: 'string', default: anomalyKinds.join(',') },
    'log-level': { type: 'string', default: 'error' },
  },
});

function die(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const devices = Number(values.devices);
const durationMs = values.realtime ? 365 * 86_400_000 : parseDuration(values.duration);
const seconds = Number(values.seconds);
if (!Number.isInteger(devices) || devices < 1) die(`--devices ${values.devices} must be a positive integer`);
if (durationMs === undefined) die(`--duration ${values.duration} is not a duration such as 6h or 1d`);
if (!(seconds > 0)) die(`--seconds ${values.seconds} must be positive`);
const kinds = values.anomalies.split(',').filter((k) => k !== '');
const unknown = kinds.filter((k) => !(anomalyKinds as readonly string[]).includes(k));
if (unknown.length > 0) die(`--anomalies: unknown kind(s) ${unknown.join(', ')} (known: ${anomalyKinds.join(', ')})`);

let influxd: Influxd | undefined;
let influxUrl = process.env.INFLUX_URL;
if (influxUrl === undefined) {
  if (which('influxd') === undefined) die(`tributary demo: ${INFLUXD_MISSING}`);
  // Out of reach of Ctrl-C, which stops the demo: it still reads InfluxDB for the summary, then stops it.
  influxd = await startInfluxd({ ownProcessGroup: true });
  influxUrl = influxd.url;
  const orphan = influxd;
  process.once('exit', () => void orphan.kill()); // a second Ctrl-C exits at once: take influxd along
}
const stateDir = mkdtempSync(join(tmpdir(), 'tributary-demo-'));
const log = pino({ level: values['log-level'] }, pino.destination(2));
const windowMs = 5 * 60_000;
const speed = values.realtime ? 1 : durationMs / (seconds * 1000);

const pipeline = await Pipeline.start({
  influxUrl,
  database: 'tributary',
  stateDir,
  devices,
  seed: values.seed,
  durationMs,
  speed,
  samplePeriodMs: 15_000,
  windowMs,
  anomalyRatePerDay: 0.5,
  anomalyKinds: kinds as AnomalyKind[],
  log,
});
const out = (line: string): boolean => process.stdout.write(`${line}\n`);
out(
  `Tributary demo: ${devices} simulated devices → edge agent → cloud processor (embedded MQTT broker ${pipeline.cloud.brokerUrl}) → InfluxDB ${influxUrl}, database "tributary"`,
);
out(
  `Dashboard: http://127.0.0.1:${pipeline.cloud.httpPort}/dashboard/   metrics: http://127.0.0.1:${pipeline.cloud.httpPort}/metrics`,
);
out(
  values.realtime
    ? 'Running in real time; Ctrl-C stops and prints the summary.'
    : `Playing ${values.duration} of sensor data in about ${seconds} s (${Math.round(speed)}× real time); Ctrl-C stops early.`,
);
// Ground truth and alerts as JSON lines, so a run can be scored again: tributary-sim score --labels … --alerts …
const resultsDir = join('.tributary', 'demo');
mkdirSync(resultsDir, { recursive: true });
const labelsFile = join(resultsDir, 'labels.jsonl');
const alertsFile = join(resultsDir, 'alerts.jsonl');
writeFileSync(labelsFile, pipeline.fleet.labels.map((l) => `${JSON.stringify(l)}\n`).join(''));
writeFileSync(alertsFile, '');
pipeline.cloud.onAlert((alert) => {
  out(formatAlert(alert));
  appendFileSync(alertsFile, `${JSON.stringify(alert)}\n`);
});

/** The latency histograms' p50 / p99, as /metrics has them. */
async function latencySummary(): Promise<string> {
  const q = async (metrics: typeof pipeline.cloud.prometheus, name: string): Promise<string> => {
    const [p50, p99] = await Promise.all([metrics.quantile(name, 0.5), metrics.quantile(name, 0.99)]);
    const top = LATENCY_BUCKETS_S.at(-1)!;
    const s = (v: number | undefined): string =>
      v === undefined ? '–' : v >= top ? `> ${top} s` : v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(1)} s`;
    return `${s(p50)} / ${s(p99)}`;
  };
  const replayed =
    speed > 1
      ? ` (event time ran ${Math.round(speed)}× faster than the clock here, so the first two measure how far the replayed span lagged the clock; --realtime for real figures)`
      : '';
  return [
    '  latency, p50 / p99 (from the histograms on /metrics):',
    `    window end → durable in InfluxDB   ${await q(pipeline.cloud.prometheus, 'window_end_to_durable')}`,
    `    window end → alert out             ${await q(pipeline.cloud.prometheus, 'window_end_to_alert')}${replayed}`,
    `    batch spooled → acked (agent)      ${await q(pipeline.agent.prometheus, 'batch_sealed_to_acked')}`,
  ].join('\n');
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  out('Stopping: flushing open windows…');
  pipeline.stopPlaying();
});

let lastProgress = Date.now();
await pipeline.play((sim) => {
  if (Date.now() - lastProgress < 5000) return;
  lastProgress = Date.now();
  const c = pipeline.agent.counters;
  out(
    `  … ${new Date(sim.simTime).toISOString().slice(0, 16).replace('T', ' ')}  readings sent ${sim.readings}  accepted ${c.get('readings_accepted')}  windows written ${pipeline.cloud.counters.get('windows_written')}  alerts open ${pipeline.cloud.alerts.openCount}`,
  );
});
const summary = await pipeline.finish();
const inInflux = await pipeline.countInInflux();
out(formatSummary(summary, inInflux, windowMs));
out(await latencySummary());
out(`  ground truth and alerts: ${labelsFile}, ${alertsFile}`);
await pipeline.close();
await influxd?.stop();
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
