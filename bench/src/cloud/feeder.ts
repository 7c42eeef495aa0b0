/**
 * The load side of bench:cloud, in its own process so its work is not counted as the processor's.
 *
 *   feeder.js mqtt BROKER_URL SERIES AGENTS WARMUP ROUNDS START_MS [AGENT_PREFIX]
 *     Plays edge agents: publishes each agent's batches (QoS 1) with at most 8 unacked per agent,
 *     as the agent's uplink does, until every batch is acked. Agents are AGENT_PREFIX-000… (default bench-gw).
 *   feeder.js raw INFLUX_URL DATABASE SERIES AGENTS WARMUP ROUNDS START_MS
 *     The reference: the same windows as line protocol (the same encoder), POSTed straight to
 *     /write in requests of 5,000 lines, 4 in flight.
 *
 * Everything is generated before the clock starts. The first WARMUP rounds (new series: InfluxDB
 * indexes them, the processor builds their detectors) are sent and written before it starts, so
 * the figures are the steady state. Prints `timed` when the clock starts, then one JSON line:
 * windows, lines, seconds.
 */
import { Agent, request } from 'node:http';
import { PointEncoder } from '@tributary/cloud-processor';
import { decodeBatch, type BatchEnvelope } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { batchQueues, publishAll } from '@tributary/test/harness/batch-player.js';
import { WindowBatches } from '@tributary/test/harness/window-batches.js';

const [mode, url, ...rest] = process.argv.slice(2);
const MAX_IN_FLIGHT_PER_AGENT = 8;
const LINES_PER_REQUEST = 5_000;
const REQUESTS_IN_FLIGHT = 4;

function generator(series: string, agents: string, startMs: string, agentPrefix?: string): WindowBatches {
  return new WindowBatches({ series: Number(series), agents: Number(agents), windowMs: 60_000, readingsPerWindow: 60, startMs: Number(startMs), seed: 7, ...(agentPrefix === undefined ? {} : { agentPrefix }) });
}

async function playAgents(brokerUrl: string, series: string, agents: string, warmup: string, roundsText: string, startMs: string, agentPrefix?: string): Promise<object> {
  const gen = generator(series, agents, startMs, agentPrefix);
  const client = await mqtt.connectAsync(brokerUrl, { clientId: `bench-feeder-${process.pid}`, clean: true });
  await client.subscribeAsync('tributary/v1/agents/+/acks', { qos: 1 });
  await publishAll(client, batchQueues(gen, Number(warmup)), MAX_IN_FLIGHT_PER_AGENT);
  const timed = batchQueues(gen, Number(roundsText));
  const batches = [...timed.values()].reduce((n, q) => n + q.length, 0);
  const windows = batches * (Number(series) / Number(agents));
  process.stdout.write('timed\n');
  const started = performance.now();
  await publishAll(client, timed, MAX_IN_FLIGHT_PER_AGENT);
  const seconds = (performance.now() - started) / 1000;
  await client.endAsync();
  return { windows: Math.round(windows), batches, seconds };
}

async function writeRaw(influxUrl: string, database: string, series: string, agents: string, warmup: string, rounds: string, startMs: string): Promise<object> {
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
  return { windows: lines, lines, requests: bodies.length - warmupBodies, seconds };
}

function post(base: string, path: string, body: Buffer, agent?: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: 'POST', headers: { 'content-length': body.byteLength }, ...(agent ? { agent } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const result = mode === 'mqtt' ? await playAgents(url!, rest[0]!, rest[1]!, rest[2]!, rest[3]!, rest[4]!, rest[5]) : await writeRaw(url!, rest[0]!, rest[1]!, rest[2]!, rest[3]!, rest[4]!, rest[5]!);
process.stdout.write(`${JSON.stringify(result)}\n`);
