import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, decodeBatch, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import mqtt from 'mqtt';
import { batchQueues, publishAll } from '../harness/batch-player.js';
import { fuzzBounds, fuzzCases, fuzzSeed, fuzzTimeout, heldBytes, type FuzzBounds } from '../harness/fuzz.js';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { chunks, fuzzSession, type FuzzSession } from '../harness/mqtt-fuzz.js';
import { rawConnection } from '../harness/mqtt-raw.js';
import { freePort } from '../harness/ports.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { WindowBatches } from '../harness/window-batches.js';

const MiB = 1024 * 1024;
/** Connections fuzzed at once, and how long each may stay open before the fuzzer hangs up. */
const CONCURRENCY = 25;
const CASE_MS = 150;
/** A round of valid traffic must get through within this, between every two rounds of fuzz. */
const PROBE_DEADLINE_MS = 10_000;
const BOUNDS: FuzzBounds = { runs: 500, budgetMs: 12_000 };
/** What the process may hold on to more after the run (heap and Buffers after a full collection). */
const MAX_GROWTH_BYTES = 16 * MiB;

/** Sends one session's bytes as it is split, then hangs up after CASE_MS; true when the broker closed it first. */
async function play(port: number, s: FuzzSession): Promise<boolean> {
  const conn = await rawConnection(port);
  for (const c of chunks(s)) {
    if (conn.isClosed()) break;
    conn.socket.write(c);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const closedByBroker = await Promise.race([conn.closed.then(() => true), delay(CASE_MS).then(() => false)]);
  conn.socket.destroy();
  return closedByBroker;
}

/**
 * A broker under fuzz, in this process (so what it holds can be measured after a full collection,
 * and an exception it throws fails the test), with a client sending valid traffic between rounds.
 */
interface Target {
  readonly port: number;
  /** The topic text the fuzz must never publish to (the valid traffic's). */
  readonly reserved: string;
  /** One round of valid traffic, through the broker; resolves once it is through. */
  round(): Promise<void>;
  /** Checks that every valid message of every round arrived, exactly. */
  arrivedExactly(): Promise<void>;
}

const targets: Record<string, (t: test.TestContext) => Promise<Target>> = {
  "the cloud's embedded broker": async (t) => {
    const influxd = await startInfluxd();
    t.after(() => influxd.stop());
    const dir = scratchDir('fuzz-cloud');
    const port = await freePort();
    const cloud = new CloudProcessor({
      config: ProcessorConfigSchema.parse({
        broker: { type: 'embedded', host: '127.0.0.1', port, unauthenticated: { connectTimeoutMs: 2_000 } },
        influx: { url: influxd.url, database: 'fuzz' },
        stateDir: join(dir, 'cloud'),
      }),
      log: silentLogger,
    });
    await cloud.start();
    t.after(() => cloud.stop());
    // A real agent's traffic: batches of one agent, published at QoS 1 and acked after the write.
    const gen = new WindowBatches({
      series: 40,
      agents: 1,
      windowMs: 60_000,
      readingsPerWindow: 30,
      startMs: Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000,
      agentPrefix: 'legit',
      seed: fuzzSeed,
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'legit-player', clean: true });
    t.after(() => client.endAsync(true));
    await client.subscribeAsync('tributary/v1/agents/+/acks', { qos: 1 });
    let expected = 0;
    return {
      port,
      reserved: 'tributary/v1/agents/legit',
      round: async () => {
        const queues = batchQueues(gen, 1);
        for (const q of queues.values())
          for (const p of q)
            for (const w of (decodeBatch(p) as { ok: true; value: { windows: Array<{ count: number }> } }).value
              .windows)
              expected += w.count;
        await withDeadline(publishAll(client, queues), 'a round of valid batches to be acked');
      },
      arrivedExactly: async () => {
        const rows = await influxQuery(
          influxd.url,
          'fuzz',
          `SELECT sum("count") FROM "temperature","humidity","co2","pressure","vibration","current" WHERE "agent" = 'legit-000'`,
        );
        const inInflux = rows.reduce((n, s) => n + Number(s.values[0]?.[1] ?? 0), 0);
        assert.equal(inInflux, expected, 'Σ count in InfluxDB of the valid agent equals what it sent');
      },
    };
  },
  "the gateway's mqtt-broker source": async (t) => {
    const dir = scratchDir('fuzz-gateway');
    const port = await freePort();
    const agent = new EdgeAgent({
      config: AgentConfigSchema.parse({
        agentId: 'gw-fuzz',
        sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port, unauthenticated: { connectTimeoutMs: 2_000 } }],
        windows: { maxSeries: 100_000 },
        uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
        spool: { type: 'memory' },
      }),
      stateDir: join(dir, 'agent'),
      log: silentLogger,
    });
    await agent.start();
    t.after(() => agent.stop(0));
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'legit-sensor', clean: true });
    t.after(() => sensor.endAsync(true));
    let sent = 0;
    return {
      port,
      reserved: 'sensors/',
      round: async () => {
        const ts = Date.now();
        const sends = Array.from({ length: 20 }, (_, i) =>
          sensor.publishAsync(
            `sensors/legit-${i}/telemetry`,
            JSON.stringify({ device: `legit-${i}`, ts, seq: sent + i, values: { temperature: 20 + i / 10 } }),
            { qos: 1 },
          ),
        );
        await withDeadline(Promise.all(sends), 'a round of valid readings to be acknowledged');
        sent += sends.length;
      },
      arrivedExactly: async () => {
        await waitFor(
          'every valid reading counted by the agent',
          () => agent.counters.get('readings_accepted') === sent,
        );
        assert.equal(agent.counters.get('messages_invalid'), 0, 'no fuzz reached the telemetry topics');
      },
    };
  },
};

async function withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(
        () => reject(new Error(`${what} took longer than ${PROBE_DEADLINE_MS} ms: the broker hangs`)),
        PROBE_DEADLINE_MS,
      )),
  );
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

for (const [name, start] of Object.entries(targets)) {
  test(`fuzz: MQTT packets against ${name} over raw sockets — no crash, no hang, memory held flat, valid traffic in between arrives exactly`, {
    timeout: fuzzTimeout(BOUNDS),
  }, async (t) => {
    const target = await start(t);
    const { runs, budgetMs } = fuzzBounds(BOUNDS);
    const cases = fuzzCases(fuzzSession(target.reserved), runs, name.length);
    await target.round(); // warm-up, before the memory baseline
    const before = heldBytes();
    const started = Date.now();
    let played = 0;
    let closedByBroker = 0;
    let bytes = 0;
    const kinds = new Map<string, number>();
    for (let i = 0; i < cases.length && Date.now() - started < budgetMs; i += CONCURRENCY) {
      const batch = cases.slice(i, i + CONCURRENCY);
      const outcomes = await Promise.all(batch.map((s) => play(target.port, s)));
      for (const [j, s] of batch.entries()) {
        played++;
        bytes += s.bytes.length;
        kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1);
        if (outcomes[j]) closedByBroker++;
      }
      await target.round().catch((err: unknown) => {
        throw new Error(
          `${(err as Error).message} after cases ${i}..${i + batch.length - 1} (seed ${fuzzSeed}):\n${batch.map((s) => s.bytes.toString('hex')).join('\n')}`,
        );
      });
    }
    await delay(2_500); // connections left open by the fuzz reach their login deadline and close
    const grown = heldBytes() - before;
    t.diagnostic(
      `fuzz MQTT ${name}: ${played} connections (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}), ${bytes} bytes, ${closedByBroker} closed by the broker, in ${Date.now() - started} ms, seed ${fuzzSeed}; held after GC ${grown >= 0 ? '+' : ''}${(grown / MiB).toFixed(1)} MiB`,
    );
    assert.ok(played >= Math.min(runs, 100), `only ${played} cases ran within the budget`);
    assert.ok(grown < MAX_GROWTH_BYTES, `the process holds ${(grown / MiB).toFixed(1)} MiB more after the run`);
    await target.arrivedExactly();
  });
}
