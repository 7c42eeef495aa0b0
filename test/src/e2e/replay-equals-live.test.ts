import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fromInflux, replay } from '@tributary/cloud-processor';
import { ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { Rng } from '@tributary/device-simulator';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';

/** The replay CLI as installed with the cloud processor package. */
const replayCli = join(
  dirname(createRequire(import.meta.url).resolve('@tributary/cloud-processor')),
  'replay',
  'cli.js',
);

const brief = (a: AlertEvent): string => `${a.at} ${a.id} ${a.state} ${a.severity} ${a.score.toFixed(9)} ${a.message}`;
/** Transitions in event-time order; several series at one instant come in no particular order. */
const sorted = (alerts: readonly AlertEvent[]): string[] => alerts.map(brief).sort();

test('replaying the stored windows gives exactly the alerts the live run raised; GET /api/alerts lists them', {
  timeout: 120_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const stateDir = scratchDir('replay');
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'replay',
    stateDir,
    devices: 12,
    seed: 5,
    durationMs: 10 * 3_600_000,
    speed: (10 * 3_600_000) / 6_000,
    samplePeriodMs: 15_000,
    windowMs: 300_000,
    anomalyRatePerDay: 4,
    // Out-of-range glitches too: the agent filters them and counts them per window, and replay must
    // see those counts in InfluxDB to alert as the live run did.
    anomalyKinds: ['spike', 'level-shift', 'out-of-range', 'dropout'],
  });
  t.after(() => pipeline.close());
  await pipeline.play();
  await pipeline.finish();

  const live = pipeline.alerts;
  assert.ok(live.filter((a) => a.state === 'opened').length >= 3, `the run raised alerts (${live.length} transitions)`);
  for (const detector of ['out-of-range', 'missing-data']) {
    assert.ok(
      live.some((a) => a.detector === detector && a.state === 'opened'),
      `the live run raised a ${detector} alert, which replay must reproduce`,
    );
  }
  const api = (await (await fetch(`http://127.0.0.1:${pipeline.cloud.httpPort}/api/alerts`)).json()) as {
    open: unknown[];
    recent: AlertEvent[];
  };
  assert.deepEqual(api.recent.map(brief), live.map(brief), 'the API lists the transitions as they happened, in order');
  assert.equal(api.open.length, pipeline.cloud.alerts.openCount);

  const stored = await fromInflux({ url: influxd.url, database: 'replay', metrics: [] });
  const replayed = replay(ProcessorConfigSchema.parse({}), stored);
  assert.deepEqual(
    sorted(replayed.alerts),
    sorted(live),
    'replay through the same code raises the same alerts, at the same times, with the same scores and words',
  );
});

test("sliding windows and late corrections: replay judges what the live run judged (the window length stored, a correction keeping the first emission's values)", {
  timeout: 180_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const hours = 8;
  const periodMs = 30_000;
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'replay_sliding',
    stateDir: scratchDir('replay-sliding'),
    devices: 1,
    seed: 7,
    durationMs: 60_000,
    speed: 1,
    samplePeriodMs: periodMs,
    // Five-minute windows every minute: points are a minute apart, a window is five long.
    windowMs: 300_000,
    slideMs: 60_000,
    allowedLatenessMs: 30_000,
    lateReadings: 're-emit',
    anomalyRatePerDay: 0,
  });
  t.after(() => pipeline.close());
  // Readings of six devices in event-time order, every 30 s for eight hours that just ended: a level
  // shift on one, a spike on another; and every 20 minutes, for each device, a late reading 7
  // minutes behind, far from its level: every window holding it was emitted already (the newest
  // ends 2 minutes behind, past the lateness) and is within the correction horizon (10 minutes), so
  // the agent re-emits them with values detection never saw live.
  const start = Math.floor((Date.now() - hours * 3_600_000) / 300_000) * 300_000;
  const rng = new Rng(11);
  const messages: Array<{ topic: string; payload: string }> = [];
  const reading = (device: string, ts: number, value: number): void => {
    messages.push({
      topic: `sensors/${device}/telemetry`,
      payload: JSON.stringify({ device, ts, values: { temperature: Math.round(value * 100) / 100 } }),
    });
  };
  const devices = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
  for (let ts = start; ts < start + hours * 3_600_000; ts += periodMs) {
    const hour = (ts - start) / 3_600_000;
    for (const [i, device] of devices.entries()) {
      const level = 20 + i + Math.sin((2 * Math.PI * hour) / 24) + (device === 'd0' && hour >= 5 ? 4 : 0);
      reading(device, ts, level + rng.normal() * 0.2 + (device === 'd1' && ts === start + 6 * 3_600_000 ? 9 : 0));
      if (hour >= 1 && (ts - start) % 1_200_000 === 0) reading(device, ts - 420_000, level + 6);
    }
  }
  await pipeline.publishInOrder(messages);
  await pipeline.finish();

  assert.ok(
    pipeline.agent.counters.get('readings_corrected') >= 6 * 20,
    `late readings corrected emitted windows (${pipeline.agent.counters.get('readings_corrected')})`,
  );
  assert.equal(
    pipeline.cloud.counters.get('corrections_unjudged'),
    0,
    'every correction was stored with what was judged',
  );
  const revised = await influxQuery(influxd.url, 'replay_sliding', 'SELECT count("rev") FROM "temperature"');
  assert.ok(Number(revised[0]?.values[0]?.[1] ?? 0) > 0, 'InfluxDB holds the corrected revisions');
  const live = pipeline.alerts;
  assert.ok(live.filter((a) => a.state === 'opened').length >= 2, `the run raised alerts (${live.length} transitions)`);

  const stored = await fromInflux({ url: influxd.url, database: 'replay_sliding', metrics: [] });
  const lengths = new Set([...stored.values()].flat().map((p) => p.lengthMs));
  assert.deepEqual(
    [...lengths],
    [300_000],
    'each point knows its window is five minutes long, though they are a minute apart',
  );
  const replayed = replay(ProcessorConfigSchema.parse({}), stored);
  assert.deepEqual(sorted(replayed.alerts), sorted(live), "replay raises the live run's alerts exactly");
});

test('tributary-replay influx --config reads where the processor writes, with its credentials', {
  timeout: 60_000,
}, async (t) => {
  const admin = { username: 'admin', password: 'replay-secret' };
  const influxd = await startInfluxd({ admin });
  t.after(() => influxd.stop());
  const auth = { authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}` };
  const created = await fetch(`${influxd.url}/query`, {
    method: 'POST',
    headers: auth,
    body: new URLSearchParams({ q: 'CREATE DATABASE "guarded"' }),
  });
  assert.equal(created.status, 200);
  assert.deepEqual(
    ((await created.json()) as { results: Array<{ error?: string }> }).results.map((r) => r.error),
    [undefined],
    'the database was created',
  );
  // 48 five-minute windows of one series, as the processor stores them.
  const t0 = Date.UTC(2026, 10, 20);
  const lines = Array.from(
    { length: 48 },
    (_, i) =>
      `temperature,device=d1,agent=gw count=60i,mean=${20 + (i % 3) / 10},min=19.5,max=21,stddev=0.1 ${t0 + (i + 1) * 300_000}000000`,
  );
  const written = await fetch(`${influxd.url}/write?db=guarded`, {
    method: 'POST',
    headers: auth,
    body: lines.join('\n'),
  });
  assert.equal(written.status, 204, await written.text());

  const dir = scratchDir('replay-auth');
  const configFile = join(dir, 'processor.json');
  writeFileSync(configFile, JSON.stringify({ influx: { url: influxd.url, database: 'guarded', ...admin } }));
  const { status, stderr } = spawnSync(process.execPath, [replayCli, 'influx', '--config', configFile], {
    encoding: 'utf8',
  });
  assert.equal(status, 0, stderr);
  assert.match(stderr, /replayed 48 points of 1 series/);
  // Without the credentials influxd refuses, and the replay says so.
  writeFileSync(configFile, JSON.stringify({ influx: { url: influxd.url, database: 'guarded' } }));
  const refused = spawnSync(process.execPath, [replayCli, 'influx', '--config', configFile], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /HTTP 401/);
});

test("tributary-replay --url on another server does not send it the config's credentials", {
  timeout: 30_000,
}, async (t) => {
  // Stands in for "some other InfluxDB": a real one cannot report which headers reached it.
  const seen: (string | undefined)[] = [];
  const other = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ results: [{ statement_id: 0 }] }));
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.after(() => other.close());
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;

  const dir = scratchDir('replay-other-url');
  const configFile = join(dir, 'processor.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      influx: { url: 'http://127.0.0.1:8086', database: 'guarded', username: 'admin', password: 'replay-secret' },
    }),
  );
  // Not spawnSync: the server above answers from this process's event loop.
  const child = spawn(process.execPath, [replayCli, 'influx', '--config', configFile, '--url', otherUrl], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const run = { status, stderr };
  assert.equal(run.status, 0, run.stderr);
  assert.ok(seen.length > 0, 'the replay queried the --url server');
  assert.deepEqual(
    seen,
    seen.map(() => undefined),
    'no Authorization header reached the other server',
  );
  assert.match(run.stderr, /is not the server of influx\.url: the config's credentials are not sent to it/);
});
