import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSerialLine, type AgentConfigInput, type ProcessorConfigInput } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { influxQuery } from './influxd.js';
import { metric, scrape } from './metrics.js';
import { startMosquitto } from './mosquitto.js';
import { freePort } from './ports.js';
import { scratchDir } from './scratch.js';
import { ServerProcess } from './server-process.js';
import { startPtyPair } from './socat.js';
import { waitFor } from './wait.js';

/** How a Node.js program is started: this Node, another build, or another build under an emulator. */
export interface NodeRuntime {
  readonly label: string;
  readonly command: string;
  /** Arguments before the script (an emulator's, then the node binary). */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export const thisNode: NodeRuntime = {
  label: `native node ${process.version}`,
  command: process.execPath,
  args: [],
  env: {},
};

export const cliOf = (pkg: string, file = './cli.js'): string => fileURLToPath(new URL(file, import.meta.resolve(pkg)));

/** A CLI started by `runtime` with a JSON config, once its /health answers. */
export async function startService(
  name: string,
  runtime: NodeRuntime,
  cli: string,
  config: object,
  dir: string,
  healthPort: number,
  startTimeoutMs: number,
  nodeFlags: string[] = [],
): Promise<ServerProcess> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const proc = new ServerProcess(
    name,
    runtime.command,
    [...runtime.args, ...nodeFlags, cli, '--config', file],
    runtime.env,
  );
  proc.start();
  await waitFor(
    `${name} (${runtime.label}) to answer /health`,
    async () => {
      if (!proc.running) throw new Error(`${name} exited: ${proc.recentOutput}`);
      return (await fetch(`http://127.0.0.1:${healthPort}/health`)).ok;
    },
    startTimeoutMs,
    100,
  );
  return proc;
}

export interface AgentRun {
  readonly sent: number;
  readonly accepted: number;
  readonly inInflux: number;
  /** Resident memory of the agent's process (the emulator's, under emulation) once every reading is in. */
  readonly agentRssMb: number;
  /** Readings the agent took per second once up: the MQTT backlog and the serial lines at once, until the last is counted. */
  readonly readingsPerS: number;
}

/**
 * An edge agent started by `runtime` reads a serial port (a socat pty the test writes the firmware
 * line format to) and an MQTT source (a backlog of telemetry queued for it on Mosquitto), and
 * forwards its windows to a cloud processor on this machine, which writes them to InfluxDB. After
 * a clean stop of the agent, Σ count in InfluxDB is compared with what was sent.
 */
export async function runAgentToInflux(options: {
  agent: NodeRuntime;
  cloud?: NodeRuntime;
  influxUrl: string;
  database: string;
  series: number;
  mqttReadings: number;
  serialReadings: number;
  startTimeoutMs: number;
}): Promise<AgentRun> {
  const dir = scratchDir('agent-rig');
  const stopping: Array<() => Promise<void>> = [];
  try {
    const [brokerPort, cloudHttp, agentHttp] = [await freePort(), await freePort(), await freePort()];
    const cloudConfig: ProcessorConfigInput = {
      broker: { type: 'embedded', host: '127.0.0.1', port: brokerPort },
      influx: { url: options.influxUrl, database: options.database },
      http: { host: '127.0.0.1', port: cloudHttp },
      stateDir: join(dir, 'cloud'),
      log: { level: 'warn' },
    };
    const cloud = await startService(
      'cloud',
      options.cloud ?? thisNode,
      cliOf('@tributary/cloud-processor'),
      cloudConfig,
      dir,
      cloudHttp,
      30_000,
    );
    stopping.unshift(() => cloud.stop(30_000));
    const mosquitto = await startMosquitto();
    stopping.unshift(() => mosquitto.stop());
    const pty = await startPtyPair();
    stopping.unshift(() => pty.stop());

    // The backlog: a persistent session for the agent's MQTT source (sources[1]), made before it starts.
    const clientId = 'tributary-agent-rig-src1';
    const session = await mqtt.connectAsync(mosquitto.url, { clientId, clean: false });
    await session.subscribeAsync('sensors/+/telemetry', { qos: 1 });
    await session.endAsync();
    // The agent reaches Mosquitto through a gate held shut until it is up, so the backlog drains
    // on the clock, after start-up (seconds under emulation).
    const gate = await gatedRelay(new URL(mosquitto.url));
    stopping.unshift(() => gate.close());
    const publisher = await mqtt.connectAsync(mosquitto.url, { clean: true });
    const start = Date.now();
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < options.mqttReadings; i++) {
      const device = `m-${i % options.series}`;
      sends.push(
        publisher.publishAsync(
          `sensors/${device}/telemetry`,
          JSON.stringify({
            device,
            ts: start + Math.floor(i / options.series),
            seq: i,
            values: { temperature: 20 + (i % 7) / 10 },
          }),
          { qos: 1 },
        ),
      );
    }
    await Promise.all(sends);
    await publisher.endAsync();

    const agentConfig: AgentConfigInput = {
      agentId: 'rig',
      sources: [
        { type: 'serial', path: pty.agentEnd },
        { type: 'mqtt', url: gate.url, qos: 1, session: 'persistent' },
      ],
      windows: { lengthMs: 60_000, allowedLatenessMs: 60_000, maxSeries: options.series + 100 },
      uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${brokerPort}` },
      http: { host: '127.0.0.1', port: agentHttp },
      stateDir: join(dir, 'agent'),
      log: { level: 'info' },
    };
    // With the young generation the systemd unit gives it (edge-agent/service/tributary-agent.service).
    const agent = await startService(
      'agent',
      options.agent,
      cliOf('@tributary/edge-agent'),
      agentConfig,
      dir,
      agentHttp,
      options.startTimeoutMs,
      ['--max-semi-space-size=4'],
    );
    stopping.unshift(() => agent.stop(60_000));
    const accepted = async (): Promise<number> =>
      metric(await scrape(`http://127.0.0.1:${agentHttp}/metrics`), 'tributary_agent_readings_accepted_total');
    await waitFor(
      'the serial port to be open',
      () => agent.logLines().some((l) => l.msg === 'serial port open'),
      options.startTimeoutMs,
    );
    const began = Date.now();
    gate.open();
    const serial = await open(pty.deviceEnd, 'w');
    const written = (async () => {
      for (let i = 0; i < options.serialReadings; i++)
        await serial.write(
          encodeSerialLine({
            device: `s-${i % 20}`,
            seq: i,
            ts: start + Math.floor(i / 20),
            values: { temperature: 21.5 },
          }),
        );
      await serial.close();
    })();
    const sent = options.mqttReadings + options.serialReadings;
    await waitFor(
      `the agent (${options.agent.label}) to take all ${sent} readings`,
      async () => (await accepted()) >= sent,
      300_000,
      20,
    );
    await written;
    const readingsPerS = sent / ((Date.now() - began) / 1000);
    const agentRssMb = rssMb(agent.pid);
    const took = await accepted();
    await agent.stop(60_000);
    const inInflux = await waitFor(
      'Σ count in InfluxDB to reach what the agent accepted',
      async () => {
        const series = await influxQuery(options.influxUrl, options.database, 'SELECT sum("count") FROM "temperature"');
        const n = Number(series[0]?.values[0]?.[1] ?? 0);
        return n >= took ? n : undefined;
      },
      60_000,
      200,
    ).catch(async () =>
      Number(
        (await influxQuery(options.influxUrl, options.database, 'SELECT sum("count") FROM "temperature"'))[0]
          ?.values[0]?.[1] ?? 0,
      ),
    );
    return { sent, accepted: took, inInflux, agentRssMb, readingsPerS };
  } finally {
    for (const stop of stopping) await stop();
  }
}

/**
 * A loopback TCP relay to `to` that takes connections at once but passes no byte either way until
 * `open()` (then everything held, and on).
 */
async function gatedRelay(to: URL): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  let opened = false;
  const waiting: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    client.pause();
    const link = (): void => {
      const broker = createConnection({ host: to.hostname, port: Number(to.port) });
      for (const s of [client, broker]) {
        sockets.add(s);
        s.on('error', () => undefined);
      }
      client.pipe(broker).on('close', () => client.destroy());
      broker.pipe(client).on('close', () => broker.destroy());
      client.resume();
    };
    sockets.add(client);
    client.on('error', () => undefined);
    if (opened) link();
    else waiting.push(link);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    open: () => {
      opened = true;
      for (const link of waiting.splice(0)) link();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** VmRSS of a process, in MB (Linux /proc). */
export function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}
