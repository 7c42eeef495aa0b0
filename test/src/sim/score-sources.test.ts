import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { topics, type AlertEvent } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { startInfluxd } from '../harness/influxd.js';
import { startMosquitto } from '../harness/mosquitto.js';
import { waitFor } from '../harness/wait.js';

const cli = new URL('../../../device-simulator/dist/cli.js', import.meta.url).pathname;
const run = promisify(execFile);
const T0 = Date.UTC(2025, 0, 6, 10);
const MIN = 60_000;
const labels = [
  { device: 'th-0001', metric: 'temperature', kind: 'spike', start: T0, end: T0, magnitude: 7 },
  {
    device: 'th-0002',
    metric: 'humidity',
    kind: 'level-shift',
    start: T0 + 60 * MIN,
    end: T0 + 120 * MIN,
    magnitude: 9,
  },
];
const event = (
  device: string,
  metric: string,
  openedAt: number,
  state: AlertEvent['state'] = 'opened',
): AlertEvent => ({
  v: 1,
  id: `${device}/${metric}/${openedAt}`,
  state,
  device,
  metric,
  detector: 'robust-zscore',
  severity: 'warning',
  score: 0.9,
  value: 1,
  openedAt,
  at: openedAt,
  message: 'test',
});
// The spike is found 5 min late, the shift is missed, one alert is false; a resolution does not count.
const alerts = [
  event('th-0001', 'temperature', T0 + 5 * MIN),
  event('th-0001', 'temperature', T0 + 6 * MIN, 'resolved'),
  event('th-0003', 'co2', T0),
];

function expectScore(stdout: string): void {
  const score = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    precision: number;
    recall: number;
    byKind: Record<string, { detected: number; medianDelayMs: number }>;
  };
  assert.equal(score.precision, 0.5);
  assert.equal(score.recall, 0.5);
  assert.equal(score.byKind.spike!.detected, 1);
  assert.equal(score.byKind.spike!.medianDelayMs, 5 * MIN);
  assert.equal(score.byKind['level-shift']!.detected, 0);
}

test('tributary-sim score reads alerts from a file, the MQTT alert topic and InfluxDB, with the same result', {
  timeout: 60_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-score-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const labelsFile = join(dir, 'labels.jsonl');
  writeFileSync(labelsFile, labels.map((l) => JSON.stringify(l)).join('\n'));
  const alertsFile = join(dir, 'alerts.jsonl');
  writeFileSync(alertsFile, alerts.map((a) => JSON.stringify(a)).join('\n'));
  expectScore(
    (await run(process.execPath, [cli, 'score', '--labels', labelsFile, '--alerts', alertsFile, '--json'])).stdout,
  );

  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const listener = spawn(process.execPath, [
    cli,
    'score',
    '--labels',
    labelsFile,
    '--mqtt',
    broker.url,
    '--listen',
    '1s',
    '--json',
  ]);
  let stdout = '';
  let stderr = '';
  listener.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  listener.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise((resolve) => listener.once('exit', resolve));
  await waitFor('the scorer to subscribe', () => stderr.includes('listening for alerts'));
  const pub = await mqtt.connectAsync(broker.url);
  t.after(() => pub.endAsync());
  for (const a of alerts) await pub.publishAsync(topics.alert(a.device, a.metric), JSON.stringify(a), { qos: 1 });
  assert.equal(await exited, 0, stderr);
  expectScore(stdout);

  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  // The answer is checked (and the statement repeated until it holds): a CREATE that influxd did not
  // carry out under load left the write below with a bare 404.
  await waitFor('influxd to create the score database', async () => {
    const res = await fetch(`${influxd.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'CREATE DATABASE score' }),
    });
    const answer = (await res.json()) as { results?: Array<{ error?: string }> };
    return res.ok && answer.results?.[0]?.error === undefined;
  });
  const lines = alerts.map(
    (a) =>
      `anomaly,device=${a.device},metric=${a.metric},detector=${a.detector},severity=${a.severity},state=${a.state} alert_id="${a.id}",score=${a.score},value=${a.value},opened_at=${a.openedAt}i ${a.at}`,
  );
  const res = await fetch(`${influxd.url}/write?db=score&precision=ms`, { method: 'POST', body: lines.join('\n') });
  assert.equal(res.status, 204, await res.text());
  expectScore(
    (
      await run(process.execPath, [
        cli,
        'score',
        '--labels',
        labelsFile,
        '--influx',
        influxd.url,
        '--database',
        'score',
        '--json',
      ])
    ).stdout,
  );
});
