import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CloudProcessor } from '@tributary/cloud-processor';
import { decodeBatch, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { fuzzBounds, fuzzCases, fuzzSeed, fuzzTimeout, heldBytes, type FuzzBounds } from '../harness/fuzz.js';
import { httpFuzzCase, type HttpFuzzCase } from '../harness/http-fuzz.js';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { scratchDir } from '../harness/scratch.js';
import { WindowBatches } from '../harness/window-batches.js';

const MiB = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 2_000;
/** Every connection is answered or closed by then: the request timeout, and the server's check of it. */
const DEADLINE_MS = REQUEST_TIMEOUT_MS + 1_500;
const MAX_BATCH_BYTES = 64 * 1024;
const WORKERS = 60;
const BOUNDS: FuzzBounds = { runs: 400, budgetMs: 15_000 };
/** What the process may hold on to more after the run (heap and Buffers after a full collection). */
const MAX_GROWTH_BYTES = 16 * MiB;
const LEGIT = 'legit-000';

interface Outcome {
  readonly answered: boolean;
  readonly closed: boolean;
  readonly ms: number;
}

/** Sends a case's bytes as split; resolves once the server has answered (a status line) or closed, or at DEADLINE_MS. */
function play(port: number, c: HttpFuzzCase): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answered, closed, ms: Date.now() - started });
    };
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      if (!answered && d.subarray(0, 7).toString('latin1') === 'HTTP/1.') {
        answered = true;
        setTimeout(() => done(false), 20); // keep-alive: no need to wait for its close
      }
    });
    socket.once('close', () => done(true));
    timer = setTimeout(() => done(false), DEADLINE_MS);
    const cuts = [...new Set(c.splits.filter((s) => s < c.bytes.length)), c.bytes.length].sort((a, b) => a - b);
    socket.once('connect', () => {
      let from = 0;
      for (const end of cuts) {
        socket.write(c.bytes.subarray(from, end));
        from = end;
      }
    });
  });
}

/** POSTs a batch as the edge agent does, again after 429/503 or a refused connection, until acked or `deadlineMs`. */
async function upload(
  port: number,
  payload: Buffer,
  deadlineMs = 15_000,
): Promise<{ status: number; body: string; tries: number }> {
  const until = Date.now() + deadlineMs;
  for (let tries = 1; ; tries++) {
    const r = await new Promise<{ status: number; body: string } | undefined>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/batches',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'x-tributary-agent': LEGIT, 'content-length': payload.length },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', () => resolve(undefined));
        },
      );
      req.on('error', () => resolve(undefined));
      req.end(payload);
    });
    if (r !== undefined && r.status !== 429 && r.status !== 503) return { ...r, tries };
    if (Date.now() > until)
      throw new Error(
        `a valid upload was not taken within ${deadlineMs} ms (last: ${r?.status ?? 'connection failed'})`,
      );
    await delay(100);
  }
}

/**
 * A processor with its HTTP server (open, 2 s request timeout) in this process (so what it holds
 * can be measured after a full collection, and an exception it throws fails the test), and a
 * valid agent's batches to post between the fuzz.
 */
async function start(
  t: test.TestContext,
): Promise<{ cloud: CloudProcessor; port: number; legit: () => Promise<void>; arrivedExactly: () => Promise<void> }> {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const dir = scratchDir('fuzz-http');
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxConnections: 400 },
      maxBatchBytes: MAX_BATCH_BYTES,
      // Small bounds on what fuzz agents can make the processor keep (a valid fuzz batch is a new
      // agent with two series): what it holds must level off at them, not grow with the cases.
      dedupe: { maxAgents: 1_000 },
      detection: { maxSeries: 500 },
      influx: { url: influxd.url, database: 'fuzzhttp' },
      stateDir: join(dir, 'cloud'),
    }),
    log: silentLogger,
  });
  await cloud.start();
  t.after(() => cloud.stop());
  const port = cloud.httpPort!;
  const gen = new WindowBatches({
    series: 30,
    agents: 1,
    windowMs: 60_000,
    readingsPerWindow: 20,
    startMs: Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000,
    agentPrefix: 'legit',
    seed: fuzzSeed,
  });
  let expected = 0;
  return {
    cloud,
    port,
    legit: async () => {
      for (const b of gen.nextPayloads()) {
        const decoded = decodeBatch(b.payload);
        assert.ok(decoded.ok);
        const r = await upload(port, b.payload);
        assert.equal(r.status, 200, r.body);
        assert.match(r.body, /"status":"ok"/);
        for (const w of decoded.value.windows) expected += w.count;
      }
    },
    arrivedExactly: async () => {
      const rows = await influxQuery(
        influxd.url,
        'fuzzhttp',
        `SELECT sum("count") FROM "temperature","humidity","co2","pressure","vibration","current" WHERE "agent" = '${LEGIT}'`,
      );
      assert.equal(
        rows.reduce((n, s) => n + Number(s.values[0]?.[1] ?? 0), 0),
        expected,
        'Σ count in InfluxDB of the valid agent equals what it posted',
      );
    },
  };
}

test('fuzz: HTTP uploads against the processor — request lines, headers, bodies, chunking: each answered or closed within the request timeout, no crash, memory held flat, valid uploads in between arrive exactly', {
  timeout: fuzzTimeout(BOUNDS),
}, async (t) => {
  const s = await start(t);
  const { runs, budgetMs } = fuzzBounds(BOUNDS);
  const cases = fuzzCases(httpFuzzCase(LEGIT, MAX_BATCH_BYTES), runs);
  await s.legit(); // warm-up, before the memory baseline
  const before = heldBytes();
  const started = Date.now();
  const outcomes: Array<Outcome & { index: number }> = [];
  let next = 0;
  let fuzzing = true;
  // Valid uploads all along, as an agent would keep posting.
  const legit = (async () => {
    let rounds = 0;
    while (fuzzing) {
      await s.legit();
      rounds++;
      await delay(100);
    }
    return rounds;
  })();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < cases.length && Date.now() - started < budgetMs) {
        const index = next++;
        outcomes.push({ ...(await play(s.port, cases[index]!)), index });
      }
    }),
  );
  fuzzing = false;
  const rounds = await legit;
  const hung = outcomes.filter((o) => !o.answered && !o.closed);
  const grown = heldBytes() - before;
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  const written = s.cloud.counters.get('batches_written');
  t.diagnostic(
    `fuzz HTTP: ${outcomes.length} requests (${outcomes.filter((o) => o.answered).length} answered, ${outcomes.filter((o) => !o.answered && o.closed).length} closed unanswered; ${written} batches written), slowest ${slowest} ms, ${rounds} rounds of valid uploads, in ${Date.now() - started} ms, seed ${fuzzSeed}; held after GC ${grown >= 0 ? '+' : ''}${(grown / MiB).toFixed(1)} MiB`,
  );
  assert.deepEqual(
    hung.map((o) => cases[o.index]!.bytes.subarray(0, 300).toString('latin1')),
    [],
    `requests neither answered nor closed within ${DEADLINE_MS} ms`,
  );
  assert.ok(outcomes.length >= Math.min(runs, 100), `only ${outcomes.length} cases ran within the budget`);
  assert.ok(grown < MAX_GROWTH_BYTES, `the process holds ${(grown / MiB).toFixed(1)} MiB more after the run`);
  await s.arrivedExactly();
});

test('slowloris: 60 connections trickling headers and 40 trickling bodies are all closed within the request timeout, while valid uploads get through', {
  timeout: 60_000,
}, async (t) => {
  const s = await start(t);
  const before = heldBytes();
  const trickle = (head: string, bodyBytes: number): Promise<number> =>
    new Promise((resolve) => {
      const started = Date.now();
      const socket = connect(s.port, '127.0.0.1');
      socket.on('error', () => undefined);
      let sent = 0;
      const bytes = Buffer.concat([Buffer.from(head), Buffer.alloc(bodyBytes, 0x20)]);
      // A head sent whole, then its body a byte every 200 ms; or the head itself a byte at a time.
      if (bodyBytes > 0) socket.write(head, () => (sent = head.length));
      const timer = setInterval(() => socket.write(bytes.subarray(sent, ++sent)), 200);
      socket.once('close', () => {
        clearInterval(timer);
        resolve(Date.now() - started);
      });
    });
  const slow = [
    ...Array.from({ length: 60 }, (_, i) =>
      trickle(
        `POST /api/v1/batches HTTP/1.1\r\nhost: x\r\nx-tributary-agent: fz-slow-h${i}\r\ncontent-length: 10\r\n\r\n`,
        0,
      ),
    ),
    ...Array.from({ length: 40 }, (_, i) =>
      trickle(
        `POST /api/v1/batches HTTP/1.1\r\nhost: x\r\nx-tributary-agent: fz-slow-b${i}\r\ncontent-length: 5000\r\n\r\n`,
        5_000,
      ),
    ),
  ];
  await delay(300);
  const legitStarted = Date.now();
  await s.legit();
  const legitMs = Date.now() - legitStarted;
  const lasted = await Promise.all(slow);
  const grown = heldBytes() - before;
  t.diagnostic(
    `slowloris: 100 connections closed after ${Math.min(...lasted)}–${Math.max(...lasted)} ms; a valid round of uploads took ${legitMs} ms; held after GC ${(grown / MiB).toFixed(1)} MiB more`,
  );
  assert.ok(grown < MAX_GROWTH_BYTES, `the process holds ${(grown / MiB).toFixed(1)} MiB more after the slowloris`);
  assert.ok(
    Math.max(...lasted) <= DEADLINE_MS,
    `a trickling connection stayed ${Math.max(...lasted)} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`,
  );
  await s.arrivedExactly();
});
