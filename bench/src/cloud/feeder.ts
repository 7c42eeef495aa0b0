/**
 * The load side of bench:cloud, in its own process so its work is not counted as the processor's.
 *
 *   feeder.js mqtt BROKER_URL SERIES AGENTS WARMUP ROUNDS START_MS [AGENT_PREFIX]
 *     Plays edge agents: publishes each agent's batches (QoS 1) with at most 8 unacked per agent,
 *     as the agent's uplink does, until every batch is acked. Agents are AGENT_PREFIX-000… (default bench-gw).
 *   feeder.js raw INFLUX_URL DATABASE SERIES AGENTS WARMUP ROUNDS START_MS
 *     The reference: the same windows as line protocol (the same encoder), POSTed straight to
 *     /write in requests of 5,000 lines, 4 in flight.
 *   feeder.js writer INFLUX_URL DATABASE SERIES AGENTS WARMUP ROUNDS START_MS
 *     The processor's own writer (PointEncoder + InfluxWriter, its default settings: 5,000 lines a
 *     request, 4 in flight) writing each batch's windows, from decoded batches to durable.
 *   feeder.js node-influx INFLUX_URL DATABASE SERIES AGENTS WARMUP ROUNDS START_MS
 *     The `influx` npm package (node-influx) writing the same windows as IPoint objects (its
 *     writePoints builds the line protocol), 5,000 points a call, 4 calls in flight.
 *
 * Everything is generated before the clock starts. The first WARMUP rounds (new series: InfluxDB
 * indexes them, the processor builds their detectors) are sent and written before it starts, so
 * the figures are the steady state. Prints `timed` when the clock starts, then one JSON line:
 * windows (timed), warmupWindows, lines, seconds.
 */
import { Agent, request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTarget, DeadLetterFile, InfluxWriter, PointEncoder, windowStddev } from '@tributary/cloud-processor';
import { decodeBatch, hasReadings, InfluxConfig, type BatchEnvelope } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { InfluxDB, type IPoint } from 'influx';
import mqtt from 'mqtt';
import { batchQueues, publishAll } from '@tributary/test/harness/batch-player.js';
import { WindowBatches } from '@tributary/test/harness/window-batches.js';

const [mode, url, ...rest] = process.argv.slice(2);
const MAX_IN_FLIGHT_PER_AGENT = 8;
const LINES_PER_REQUEST = 5_000;
const REQUESTS_IN_FLIGHT = 4;

function generator(series: string, agents: string, startMs: string, agentPrefix?: string): WindowBatches {
  return new WindowBatches({
    series: Number(series),
    agents: Number(agents),
    windowMs: 60_000,
    readingsPerWindow: 60,
    startMs: Number(startMs),
    seed: 7,
    ...(agentPrefix === undefined ? {} : { agentPrefix }),
  });
}

async function playAgents(
  brokerUrl: string,
  series: string,
  agents: string,
  warmup: string,
  roundsText: string,
  startMs: string,
  agentPrefix?: string,
): Promise<object> {
  const gen = generator(series, agents, startMs, agentPrefix);
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `bench-feeder-${process.pid}`, clean: true });
  await client.subscribeAsync('tributary/v1/agents/+/acks', { qos: 1 });
  await publishAll(client, batchQueues(gen, Number(warmup)), MAX_IN_FLIGHT_PER_AGENT);
  const timed = batchQueues(gen, Number(roundsText));
  const batches = [...timed.values()].reduce((n, q) => n + q.length, 0);
  // One window per series a round.
  const windows = Number(roundsText) * gen.seriesCount;
  process.stdout.write('timed\n');
  const started = performance.now();
  await publishAll(client, timed, MAX_IN_FLIGHT_PER_AGENT);
  const seconds = (performance.now() - started) / 1000;
  await client.endAsync();
  return { windows, warmupWindows: Number(warmup) * gen.seriesCount, batches, seconds };
}

async function writeRaw(
  influxUrl: string,
  database: string,
  series: string,
  agents: string,
  warmup: string,
  rounds: string,
  startMs: string,
): Promise<object> {
  const gen = generator(series, agents, startMs);
  const encoder = new PointEncoder();
  const bodies: Buffer[] = [];
  let pending: string[] = [];
  let lines = 0;
  let warmupBodies = 0;
  for (let r = 0; r < Number(warmup) + Number(rounds); r++) {
    if (r === Number(warmup)) {
      if (pending.length > 0) bodies.push(Buffer.from(pending.join('\n')));
      pending = [];
      warmupBodies = bodies.length;
      lines = 0;
    }
    for (const b of gen.nextPayloads()) {
      const batch = (decodeBatch(b.payload) as { ok: true; value: BatchEnvelope }).value;
      for (const w of batch.windows) {
        pending.push(encoder.window(batch, w)!);
        if (pending.length === LINES_PER_REQUEST) {
          bodies.push(Buffer.from(pending.join('\n')));
          lines += pending.length;
          pending = [];
        }
      }
    }
  }
  if (pending.length > 0) {
    bodies.push(Buffer.from(pending.join('\n')));
    lines += pending.length;
  }
  await post(influxUrl, `/query?q=${encodeURIComponent(`CREATE DATABASE "${database}"`)}`, Buffer.alloc(0));
  const agent = new Agent({ keepAlive: true, maxSockets: REQUESTS_IN_FLIGHT });
  const writeAll = async (list: Buffer[]): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length) {
        const status = await post(influxUrl, `/write?db=${database}&precision=ms`, list[next++]!, agent);
        if (status !== 204) throw new Error(`raw write answered ${status}`);
      }
    };
    await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker));
  };
  await writeAll(bodies.slice(0, warmupBodies));
  process.stdout.write('timed\n');
  const started = performance.now();
  await writeAll(bodies.slice(warmupBodies));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    windows: lines,
    warmupWindows: Number(warmup) * gen.seriesCount,
    lines,
    requests: bodies.length - warmupBodies,
    seconds,
  };
}

/** The batches of the warmup rounds and of the timed rounds, decoded (as the processor has them before writing). */
function decodedRounds(
  series: string,
  agents: string,
  warmup: string,
  rounds: string,
  startMs: string,
): { warm: BatchEnvelope[]; timed: BatchEnvelope[] } {
  const gen = generator(series, agents, startMs);
  const decode = (payload: Buffer): BatchEnvelope => (decodeBatch(payload) as { ok: true; value: BatchEnvelope }).value;
  const take = (n: number): BatchEnvelope[] =>
    Array.from({ length: n }, () => gen.nextPayloads().map((b) => decode(b.payload))).flat();
  return { warm: take(Number(warmup)), timed: take(Number(rounds)) };
}

/** The processor's own writer: each batch encoded and handed to InfluxWriter, which coalesces and pipelines. */
async function writeWithOwnWriter(
  influxUrl: string,
  database: string,
  series: string,
  agents: string,
  warmup: string,
  rounds: string,
  startMs: string,
): Promise<object> {
  const { warm, timed } = decodedRounds(series, agents, warmup, rounds, startMs);
  const config = InfluxConfig.parse({ url: influxUrl, database });
  const writer = new InfluxWriter({
    target: createTarget(config),
    config,
    deadLetter: new DeadLetterFile(
      join(mkdtempSync(join(tmpdir(), 'bench-writer-')), 'dead-letter.jsonl'),
      config.deadLetter.maxBytes,
    ),
    log: silentLogger,
    count: () => undefined,
  });
  await writer.ensureDatabase();
  const encoder = new PointEncoder();
  const writeAll = async (batches: readonly BatchEnvelope[]): Promise<number> => {
    const pending: Promise<unknown>[] = [];
    let lines = 0;
    for (const batch of batches) {
      await writer.room();
      const encoded = batch.windows.map((w) => encoder.window(batch, w)!);
      lines += encoded.length;
      pending.push(writer.write(encoded));
    }
    await Promise.all(pending);
    return lines;
  };
  await writeAll(warm);
  process.stdout.write('timed\n');
  const started = performance.now();
  const lines = await writeAll(timed);
  const seconds = (performance.now() - started) / 1000;
  writer.abort();
  return { windows: lines, lines, seconds };
}

/** node-influx: the same windows, fields and tags as objects; writePoints makes the line protocol. */
async function writeWithNodeInflux(
  influxUrl: string,
  database: string,
  series: string,
  agents: string,
  warmup: string,
  rounds: string,
  startMs: string,
): Promise<object> {
  const { warm, timed } = decodedRounds(series, agents, warmup, rounds, startMs);
  const url = new URL(influxUrl);
  const influx = new InfluxDB({ host: url.hostname, port: Number(url.port), database });
  await influx.createDatabase(database);
  const pointsOf = (batch: BatchEnvelope): IPoint[] =>
    // The bench's windows all hold readings (the filter only narrows the type).
    batch.windows.filter(hasReadings).map((w) => ({
      measurement: w.metric,
      tags: { agent: batch.agent, device: w.device, ...(batch.site === undefined ? {} : { site: batch.site }) },
      fields: {
        count: w.count,
        sum: w.sum,
        min: w.min,
        max: w.max,
        mean: w.mean,
        stddev: windowStddev(w),
        first: w.first,
        last: w.last,
        ...(w.quantiles ?? {}),
        length_ms: w.end - w.start,
      },
      timestamp: w.end,
    }));
  const writeAll = async (batches: readonly BatchEnvelope[]): Promise<number> => {
    const all = batches.flatMap(pointsOf);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < all.length) {
        const part = all.slice(next, (next += LINES_PER_REQUEST));
        await influx.writePoints(part, { precision: 'ms' });
      }
    };
    await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker));
    return all.length;
  };
  await writeAll(warm);
  process.stdout.write('timed\n');
  const started = performance.now();
  const lines = await writeAll(timed);
  const seconds = (performance.now() - started) / 1000;
  return { windows: lines, lines, seconds };
}

function post(base: string, path: string, body: Buffer, agent?: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      { method: 'POST', headers: { 'content-length': body.byteLength }, ...(agent ? { agent } : {}) },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const writers = { raw: writeRaw, writer: writeWithOwnWriter, 'node-influx': writeWithNodeInflux } as const;
const result =
  mode === 'mqtt'
    ? await playAgents(url!, rest[0]!, rest[1]!, rest[2]!, rest[3]!, rest[4]!, rest[5])
    : await writers[mode as keyof typeof writers](url!, rest[0]!, rest[1]!, rest[2]!, rest[3]!, rest[4]!, rest[5]!);
process.stdout.write(`${JSON.stringify(result)}\n`);
