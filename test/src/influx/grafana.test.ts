import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PointEncoder } from '@tributary/cloud-processor';
import { decodeBatch, type AlertEvent, type BatchEnvelope } from '@tributary/firmware-schemas';
import { serveStatus } from '@tributary/edge-agent';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { Pipeline } from '../harness/pipeline.js';
import { PROMETHEUS_MISSING, startPrometheus, type PromSeries } from '../harness/prometheus.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { WindowBatches } from '../harness/window-batches.js';
import { writerFor } from './writer-rig.js';

interface Dashboard {
  panels: Array<{ title: string; datasource: { type: string }; targets: Array<{ query?: string; expr?: string }> }>;
  templating: { list: Array<{ name: string; type: string; query: string }> };
  annotations: { list: Array<{ query: string }> };
}

const dashboard = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../cloud-processor/grafana/tributary.json', import.meta.url)), 'utf8'),
) as Dashboard;

test('the Grafana dashboard’s every InfluxQL query runs against the schema in the real influxd and finds data', {
  timeout: 30_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const { writer } = writerFor(t, { url: influxd.url, database: 'grafana' });
  await writer.ensureDatabase();
  const startMs = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
  const gen = new WindowBatches({ series: 40, agents: 2, windowMs: 60_000, readingsPerWindow: 60, startMs });
  const encoder = new PointEncoder({ temperature: '°C' });
  const first = (decodeBatch(JSON.stringify(gen.next()[0])) as { ok: true; value: BatchEnvelope }).value;
  const alert: AlertEvent = {
    v: 1,
    id: 'a-1',
    state: 'opened',
    device: first.windows[0]!.device,
    metric: 'temperature',
    detector: 'ensemble',
    severity: 'warning',
    score: 0.97,
    value: 31.5,
    openedAt: startMs + 600_000,
    at: startMs + 600_000,
    message: 'temperature far above its usual level',
  };
  for (let round = 0; round < 5; round++) {
    for (const input of gen.next()) {
      const batch = (decodeBatch(JSON.stringify(input)) as { ok: true; value: BatchEnvelope }).value;
      await writer.write(encoder.batch(batch, round === 0 && input.agent === first.agent ? [alert] : []).lines);
    }
  }
  const device = first.windows.find((w) => w.metric === 'temperature')!.device;
  const fill = (q: string): string =>
    q
      .replaceAll('$timeFilter', 'time > now() - 2h')
      .replaceAll('$__interval', '1m')
      .replaceAll('$metric', 'temperature')
      .replaceAll('$device', '.*')
      .replaceAll('$site', '.*');
  const queries = [
    ...dashboard.panels
      .filter((p) => p.datasource.type === 'influxdb')
      .flatMap((p) => p.targets.map((target) => ({ what: `panel "${p.title}"`, q: target.query! }))),
    ...dashboard.templating.list
      .filter((v) => v.type === 'query')
      .map((v) => ({ what: `variable $${v.name}`, q: v.query })),
    ...dashboard.annotations.list.map((a) => ({ what: 'annotation', q: a.query })),
  ];
  assert.ok(queries.length >= 10);
  for (const { what, q } of queries) {
    const series = await influxQuery(influxd.url, 'grafana', fill(q));
    assert.ok(
      series.some((s) => s.values.length > 0),
      `${what} finds data: ${fill(q)}`,
    );
  }
  const devices = (
    await influxQuery(influxd.url, 'grafana', fill(dashboard.templating.list.find((v) => v.name === 'device')!.query))
  )[0]!.values.map((r) => r[1]);
  assert.ok(devices.includes(device));
  const units = await influxQuery(influxd.url, 'grafana', 'SHOW TAG VALUES FROM "temperature" WITH KEY = "unit"');
  assert.deepEqual(
    units[0]?.values.map((r) => r[1]),
    ['°C'],
    'the unit tag where it is known',
  );
});

test('the Grafana dashboard’s Prometheus panels run in a real Prometheus scraping a processor and an agent, and find data', {
  timeout: 120_000,
}, async (t) => {
  const panels = dashboard.panels.filter((p) => p.datasource.type === 'prometheus');
  assert.deepEqual(
    panels.map((p) => p.title),
    [
      'Latency: window end → durable in InfluxDB',
      'Latency: window end → alert out',
      'Latency: batch spooled → acked, per agent',
    ],
  );
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'prom',
    stateDir: scratchDir('grafana-prom'),
    devices: 10,
    seed: 3,
    durationMs: 8 * 3_600_000,
    speed: (8 * 3_600_000) / 15_000,
    samplePeriodMs: 15_000,
    windowMs: 5 * 60_000,
    anomalyRatePerDay: 8,
  });
  t.after(() => pipeline.close());
  // The agent's /metrics as its CLI serves it.
  const agentHttp = await serveStatus(
    '127.0.0.1',
    0,
    () => pipeline.agent.prometheus.text(),
    () => pipeline.agent.health(),
  );
  t.after(() => new Promise<void>((r) => agentHttp.server.close(() => r())));
  const prometheus = await startPrometheus([`127.0.0.1:${pipeline.cloud.httpPort}`, `127.0.0.1:${agentHttp.port}`]);
  if (prometheus === undefined) return t.skip(PROMETHEUS_MISSING);
  t.after(() => prometheus.stop());
  await pipeline.play();
  const queries = panels.flatMap((p) =>
    p.targets.map((target) => ({
      what: `panel "${p.title}" ${target.expr!.slice(0, 18)}`,
      expr: target.expr!.replaceAll('$__rate_interval', '1m'),
    })),
  );
  for (const { what, expr } of queries) {
    const result = await waitFor(
      `${what} to find data`,
      async (): Promise<PromSeries[] | undefined> => {
        const r = await prometheus.query(expr);
        return r.some((s) => Number.isFinite(Number(s.value[1]))) ? r : undefined;
      },
      20_000,
      500,
    );
    if (expr.includes('by (le, agent)'))
      assert.deepEqual(
        result.map((s) => s.metric.agent),
        ['demo-gw'],
        'per agent',
      );
  }
  await pipeline.finish();
});
