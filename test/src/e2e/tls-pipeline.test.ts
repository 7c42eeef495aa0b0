import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { CloudProcessor } from '@tributary/cloud-processor';
import { EdgeAgent } from '@tributary/edge-agent';
import { AgentConfigSchema, encodeBatch, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { cliOf } from '../harness/agent-rig.js';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { startMosquitto } from '../harness/mosquitto.js';
import { TestPki, type Issued } from '../harness/pki.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { recordWarnings } from '../harness/warnings.js';

/** Σ count over every window of the agent's temperature series in InfluxDB. */
async function countInInflux(url: string, database: string, agent: string): Promise<number> {
  const rows = await influxQuery(url, database, `SELECT sum("count") FROM "temperature" WHERE "agent" = '${agent}'`);
  return Number(rows[0]?.values[0]?.[1] ?? 0);
}

/** Runs `tributary-sim run` with these flags; resolves with the JSON line it ends with. */
async function simulate(args: string[]): Promise<{ readings: number; messages: number }> {
  const child = spawn(process.execPath, [cliOf('@tributary/device-simulator'), 'run', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(status, 0, `tributary-sim failed: ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as { readings: number; messages: number };
}

test('over TLS end to end: the simulator → Mosquitto (client certificates) → agent → the cloud’s broker (mqtts, the agent’s certificate as its identity, no password) → InfluxDB, every reading', {
  timeout: 120_000,
}, async (t) => {
  const pki = TestPki.create();
  const dir = scratchDir('tls-pipeline');
  const server = pki.issue('localhost', { server: true });
  const sim = pki.issue('simulator');
  const agentCert = pki.issue('gw-tls');
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const mosquitto = await startMosquitto({ tls: { ca: pki.ca, server, client: sim } });
  t.after(() => mosquitto.stop());
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: {
        type: 'embedded',
        host: '127.0.0.1',
        port: 0,
        tls: { ...server, clientCertificates: 'required', ca: pki.ca },
      },
      influx: { url: influxd.url, database: 'tlspipe' },
      stateDir: join(dir, 'cloud'),
    }),
    log: silentLogger,
  });
  await cloud.start();
  t.after(() => cloud.stop());
  assert.match(cloud.brokerUrl, /^mqtts:\/\//);
  const tls = { ca: pki.ca, ...agentCert };
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'gw-tls',
      sources: [{ type: 'mqtt', url: mosquitto.url, tls, qos: 1 }],
      windows: { lengthMs: 60_000, allowedLatenessMs: 600_000 },
      batch: { maxDelayMs: 200 },
      uplink: {
        type: 'mqtt',
        url: cloud.brokerUrl,
        tls,
        ackTimeoutMs: 5_000,
        backoff: { initialMs: 100, maxMs: 1_000 },
      },
    }),
    stateDir: join(dir, 'agent'),
    log: silentLogger,
  });
  await agent.start();
  await agent.ready();
  // The last 4 minutes of 6 devices, one reading a second each, played 120× over MQTTS with the simulator's certificate.
  const played = await simulate([
    '--devices',
    '6',
    '--sensors',
    'temperature:1s',
    '--duration',
    '4m',
    '--speed',
    '120',
    '--anomaly-rate',
    '0',
    '--labels',
    join(dir, 'labels.jsonl'),
    '--progress',
    'off',
    '--url',
    mosquitto.url,
    '--ca',
    pki.ca,
    '--cert',
    sim.cert,
    '--key',
    sim.key,
  ]);
  assert.equal(played.readings, 6 * 240);
  await waitFor(
    'the agent to take every reading',
    () => agent.counters.get('readings_accepted') === played.readings,
    30_000,
  );
  assert.deepEqual(await agent.stop(30_000), { drained: true }, 'the cloud acked every batch');
  assert.equal(
    await countInInflux(influxd.url, 'tlspipe', 'gw-tls'),
    played.readings,
    'Σ count in InfluxDB equals the readings sent and accepted',
  );
});

interface ProblemLine {
  readonly reason: string;
  readonly count: number;
  readonly example: string;
}

/** The problem report's lines among the warnings logged (`skipped input` and its fields). */
function problemLines(warnings: readonly string[]): ProblemLine[] {
  const prefix = 'skipped input ';
  return warnings.filter((w) => w.startsWith(prefix)).map((w) => JSON.parse(w.slice(prefix.length)) as ProblemLine);
}

/** One HTTPS POST of a batch; resolves with the status, or the error of a refused connection. */
function post(port: number, tls: RequestOptions, agent: string, body: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/batches',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tributary-agent': agent },
        agent: false,
        ...tls,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(body);
  });
}

test('the HTTPS uplink with client certificates: the agent posts with its certificate alone and every reading arrives; no certificate, an expired one, plain HTTP and another agent’s are refused, counted and reported with the peer', {
  timeout: 120_000,
}, async (t) => {
  const pki = TestPki.create();
  const dir = scratchDir('tls-https');
  const server = pki.issue('localhost', { server: true });
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const warnings: string[] = [];
  const cloud = new CloudProcessor({
    config: ProcessorConfigSchema.parse({
      broker: { type: 'embedded', host: '127.0.0.1', port: 0 },
      http: {
        host: '127.0.0.1',
        port: 0,
        readToken: 'read-token-0123456789',
        tls: { ...server, clientCertificates: 'required', ca: pki.ca },
      },
      influx: { url: influxd.url, database: 'tlshttps' },
      stateDir: join(dir, 'cloud'),
      reportIntervalMs: 200,
    }),
    log: recordWarnings(warnings),
  });
  await cloud.start();
  t.after(() => cloud.stop());
  const port = cloud.httpPort!;

  const pem = (path: string): Buffer => readFileSync(path);
  const as = (cert?: Issued): RequestOptions => ({
    ca: pem(pki.ca),
    ...(cert && { cert: pem(cert.cert), key: pem(cert.key) }),
  });
  const batch = encodeBatch({ v: 1, agent: 'gw-h', epoch: 1, seq: 1, sentAt: Date.now(), counters: {}, windows: [] });
  const refusals = {
    'no certificate': await post(port, as(), 'gw-h', batch),
    'an expired certificate': await post(port, as(pki.issue('gw-h', { expired: true })), 'gw-h', batch),
    "another CA's certificate": await post(port, as(TestPki.create('Another CA').issue('gw-h')), 'gw-h', batch),
  };
  for (const [what, outcome] of Object.entries(refusals))
    assert.equal(typeof outcome, 'string', `${what}: the connection is refused (${outcome})`);
  const plain = connect(port, '127.0.0.1');
  plain.on('error', () => undefined);
  plain.write('POST /api/v1/batches HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}');
  await new Promise((resolve) => plain.once('close', resolve));
  await waitFor('4 HTTPS connections refused', () => cloud.counters.get('http_tls_refused') === 4);
  assert.equal(
    await post(port, as(pki.issue('gw-b')), 'gw-h', batch),
    403,
    "another agent's certificate cannot post as gw-h",
  );
  assert.equal(cloud.counters.get('http_uploads_forbidden'), 1);
  // The problem report says, once per interval, how many were refused and why, with one example
  // naming its peer: the four may fall in one interval or several (a loaded machine takes longer
  // over each handshake), so every report of them is read.
  const reported = (): ProblemLine[] => problemLines(warnings).filter((p) => p.reason === 'http_tls_refused');
  await waitFor('the 4 refusals in the problem reports', () => reported().reduce((n, p) => n + p.count, 0) === 4);
  for (const { example } of reported())
    assert.match(
      example,
      /^127\.0\.0\.1:\d+: (no client certificate|client certificate refused: [A-Z_]+|TLS handshake failed: [A-Z_]+)$/,
      'each report names the peer and why it was refused',
    );

  const readings = 600;
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
  writeFileSync(
    join(dir, 'readings.jsonl'),
    Array.from({ length: readings }, (_, i) =>
      JSON.stringify({ device: `d${i % 3}`, ts: t0 + i * 1_000, values: { temperature: 20 + (i % 7) } }),
    ).join('\n'),
  );
  const agent = new EdgeAgent({
    config: AgentConfigSchema.parse({
      agentId: 'gw-h',
      sources: [{ type: 'file', path: join(dir, 'readings.jsonl') }],
      batch: { maxDelayMs: 100 },
      uplink: {
        type: 'http',
        url: `https://127.0.0.1:${port}`,
        tls: { ca: pki.ca, ...pki.issue('gw-h') },
        ackTimeoutMs: 5_000,
        backoff: { initialMs: 100, maxMs: 1_000 },
      },
    }),
    stateDir: join(dir, 'agent'),
    log: silentLogger,
  });
  await agent.start();
  await waitFor('the agent to read the file', () => agent.counters.get('readings_accepted') === readings);
  assert.deepEqual(await agent.stop(), { drained: true }, 'the cloud acked every batch posted with the certificate');
  assert.equal(
    await countInInflux(influxd.url, 'tlshttps', 'gw-h'),
    readings,
    'Σ count in InfluxDB equals the readings the agent accepted',
  );
  assert.equal(cloud.counters.get('http_tls_refused'), 4, 'the agent itself was never refused');
});
