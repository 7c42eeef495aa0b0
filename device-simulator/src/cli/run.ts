import { appendFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ANOMALY_KINDS, FIRMWARE_FORMATS, SENSOR_KINDS, type FirmwareFormat } from '@tributary/firmware-schemas';
import { TlsConfigError, tlsClientOptions } from '@tributary/runtime';
import { SimClock } from '../clock.js';
import { Fleet } from '../fleet.js';
import { fleetOptionsFromConfig, loadFleetFile } from '../fleet-file.js';
import { formatProgress, ProgressDisplay } from '../progress.js';
import { Simulator, SimulatorConfigError } from '../simulator.js';
import { transportRegistry, type OpenedTransport, type TransportName } from '../transports/registry.js';
import { CliError, duration, list, number, parseFlags, weights } from './args.js';

const HELP = `tributary-sim run [--fleet fleet.yaml] [flags]   (flags override the fleet file)

fleet:      --devices N  --seed S  --sites a,b  --site NAME (play one site only)
            --sensors temperature:15s,humidity:15s (one model for every device)
            --format json|serial  --clock synced|skewed|none  (for every model)
behaviour:  --malformed-rate R  --duplicate-rate R  --seq-gap-rate R  --reconnects-per-day R
anomalies:  --anomaly-rate R (per series per day)  --anomaly-mix spike=2,dip=1,...  --warmup 2h  --gap 1h
time:       --duration 1d  --speed 1440 | --realtime   (accelerated runs play the span that just ended)
output:     --labels labels.jsonl  --progress auto|on|off
JSON devices:   --transport mqtt|stdout|file (mqtt)  --url mqtt://127.0.0.1:1883  --qos 0|1  --connections N|per-device  --out FILE
MQTT over TLS:  --url mqtts://…  --ca ca.pem (a private CA to trust)  --cert client.pem --key client.key (to present)
serial devices: --serial-transport pty|serial|stdout|file (pty)  --serial-port PATH  --baud 115200
`;

const options = {
  help: { type: 'boolean' },
  fleet: { type: 'string' },
  devices: { type: 'string' },
  seed: { type: 'string' },
  sites: { type: 'string' },
  site: { type: 'string' },
  sensors: { type: 'string' },
  format: { type: 'string' },
  clock: { type: 'string' },
  'malformed-rate': { type: 'string' },
  'duplicate-rate': { type: 'string' },
  'seq-gap-rate': { type: 'string' },
  'reconnects-per-day': { type: 'string' },
  'anomaly-rate': { type: 'string' },
  'anomaly-mix': { type: 'string' },
  warmup: { type: 'string' },
  gap: { type: 'string' },
  duration: { type: 'string', default: '1d' },
  speed: { type: 'string', default: '1440' },
  realtime: { type: 'boolean', default: false },
  labels: { type: 'string', default: 'labels.jsonl' },
  progress: { type: 'string', default: 'auto' },
  transport: { type: 'string', default: 'mqtt' },
  url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
  qos: { type: 'string', default: '1' },
  connections: { type: 'string', default: '1' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  out: { type: 'string' },
  'serial-transport': { type: 'string', default: 'pty' },
  'serial-port': { type: 'string' },
  baud: { type: 'string', default: '115200' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];

/** The fleet-file keys the flags set; they replace the file's values. */
function overridesOf(v: Values): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const behaviour: Record<string, unknown> = {};
  const anomalies: Record<string, unknown> = {};
  if (v.devices !== undefined) o.devices = number('devices', v.devices, 1);
  if (v.seed !== undefined) o.seed = /^-?\d+$/.test(v.seed) ? Number(v.seed) : v.seed;
  if (v.sites !== undefined) o.sites = list(v.sites);
  if (v.sensors !== undefined) {
    const sensors = list(v.sensors).map((s) => {
      const [kind = '', period = '15s'] = s.split(':');
      if (!(SENSOR_KINDS as readonly string[]).includes(kind))
        throw new CliError(`--sensors: unknown kind "${kind}" (one of ${SENSOR_KINDS.join(', ')})`);
      return { kind, samplePeriodMs: duration('sensors', period) };
    });
    o.models = [
      {
        prefix: 'dev',
        sensors,
        machine: sensors.some((s) => s.kind === 'vibration' || s.kind === 'current') ? {} : undefined,
      },
    ];
  }
  if (v['malformed-rate'] !== undefined) behaviour.malformedRate = number('malformed-rate', v['malformed-rate'], 0);
  if (v['duplicate-rate'] !== undefined) behaviour.duplicateRate = number('duplicate-rate', v['duplicate-rate'], 0);
  if (v['seq-gap-rate'] !== undefined) behaviour.seqGapRate = number('seq-gap-rate', v['seq-gap-rate'], 0);
  if (v['reconnects-per-day'] !== undefined)
    behaviour.reconnects = { ratePerDevicePerDay: number('reconnects-per-day', v['reconnects-per-day'], 0) };
  if (v['anomaly-rate'] !== undefined) anomalies.ratePerSeriesPerDay = number('anomaly-rate', v['anomaly-rate'], 0);
  if (v['anomaly-mix'] !== undefined) anomalies.mix = weights('anomaly-mix', v['anomaly-mix'], ANOMALY_KINDS);
  if (v.warmup !== undefined) anomalies.warmupMs = duration('warmup', v.warmup);
  if (v.gap !== undefined) anomalies.gapMs = duration('gap', v.gap);
  if (Object.keys(behaviour).length) o.behaviour = behaviour;
  if (Object.keys(anomalies).length) o.anomalies = anomalies;
  return o;
}

export async function runCommand(args: string[]): Promise<number> {
  let opened: OpenedTransport[] = [];
  try {
    const v = parseFlags(args, options);
    if (v.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const loaded = loadFleetFile(v.fleet, overridesOf(v), process.env);
    if (!loaded.ok) throw new CliError(`fleet: ${loaded.error.message}`);
    const config = loaded.value;
    for (const m of config.models) {
      if (v.format !== undefined) m.format = pick('format', v.format, FIRMWARE_FORMATS);
      if (v.clock !== undefined) m.clock = pick('clock', v.clock, ['synced', 'skewed', 'none'] as const);
    }
    if (v.site !== undefined && !config.sites.includes(v.site))
      throw new CliError(`--site ${v.site} is not one of the fleet's sites (${config.sites.join(', ')})`);
    const durationMs = duration('duration', v.duration);
    const speed = v.realtime ? 1 : number('speed', v.speed, 1);
    // Accelerated runs play the span that just ended, so no timestamp lies in the receiver's future.
    const startMs = Math.floor(Date.now() - (speed > 1 ? durationMs : 0));
    const fleet = new Fleet(fleetOptionsFromConfig(config, startMs, durationMs, v.site));
    const formats = new Set(fleet.devices.map((d) => d.spec.format));
    const ids = (f: FirmwareFormat): string[] => fleet.devices.filter((d) => d.spec.format === f).map((d) => d.id);
    const transports: Partial<Record<FirmwareFormat, OpenedTransport>> = {};
    if (formats.has('json')) {
      const name = pick('transport', v.transport, ['mqtt', 'stdout', 'file'] as const);
      transports.json = await open(name, v, ids('json'), v.out);
    }
    if (formats.has('serial')) {
      const name = pick('serial-transport', v['serial-transport'], ['pty', 'serial', 'stdout', 'file'] as const);
      transports.serial = await open(name, v, ids('serial'), name === 'file' ? v.out : v['serial-port']);
    }
    opened = Object.values(transports);
    const toStdout = v.transport === 'stdout' || v['serial-transport'] === 'stdout';
    const log = (line: string): boolean => (toStdout ? process.stderr : process.stdout).write(`${line}\n`);
    for (const [format, t] of Object.entries(transports))
      log(`tributary-sim: ${ids(format as FirmwareFormat).length} ${format} devices → ${t.description}`);
    const clock = new SimClock(startMs, speed);
    const sim = new Simulator(fleet, clock, {
      ...(transports.json ? { json: transports.json.transport } : {}),
      ...(transports.serial ? { serial: transports.serial.transport } : {}),
    });
    process.on('SIGINT', () => sim.stop());
    writeFileSync(v.labels, '');
    let written = 0;
    const writeLabelsUpTo = (t: number): void => {
      const from = written;
      while (written < fleet.labels.length && fleet.labels[written]!.start <= t) written++;
      if (written > from)
        appendFileSync(
          v.labels,
          fleet.labels
            .slice(from, written)
            .map((l) => `${JSON.stringify(l)}\n`)
            .join(''),
        );
    };
    const display = new ProgressDisplay(
      process.stderr,
      v.progress === 'auto' ? process.stderr.isTTY === true : v.progress === 'on',
    );
    const stats = await sim.run((s) => {
      writeLabelsUpTo(s.simTime);
      display.update(
        (rate) =>
          formatProgress({
            stats: s,
            devices: fleet.devices.length,
            anomalies: fleet.anomaliesStartedBy(s.simTime),
            readingsPerSecond: rate,
            lagMs: Math.min(clock.now(), startMs + durationMs) - s.simTime,
          }),
        s.readings,
      );
    });
    display.done();
    writeLabelsUpTo(stats.simTime);
    for (const t of opened) await t.close();
    opened = [];
    log(JSON.stringify({ devices: fleet.devices.length, ...stats, labelsWritten: written, labelsFile: v.labels }));
    return 0;
  } catch (err) {
    for (const t of opened) await t.close().catch(() => undefined);
    if (err instanceof CliError || err instanceof SimulatorConfigError || err instanceof TlsConfigError) {
      process.stderr.write(`tributary-sim: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function pick<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new CliError(`--${flag} ${JSON.stringify(value)} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function open(name: TransportName, v: Values, devices: string[], path: string | undefined): Promise<OpenedTransport> {
  const connections = v.connections === 'per-device' ? 'per-device' : number('connections', v.connections, 1);
  const qos = pick('qos', v.qos, ['0', '1'] as const) === '0' ? 0 : 1;
  if ((v.cert === undefined) !== (v.key === undefined)) throw new CliError('--cert and --key go together');
  const tls = tlsClientOptions({ ca: v.ca, cert: v.cert, key: v.key }, (flag) => `--${flag}`);
  return transportRegistry[name]({
    url: v.url,
    qos,
    connections,
    baudRate: number('baud', v.baud, 50),
    devices,
    tls,
    ...(path === undefined ? {} : { path }),
  });
}
