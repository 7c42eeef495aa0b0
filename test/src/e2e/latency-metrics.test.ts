import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startInfluxd } from '../harness/influxd.js';
import { metric, scrape } from '../harness/metrics.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';

test('latency histograms on both /metrics: one observation per window written, per alert opened, per batch acked; the counters keep their names', {
  timeout: 120_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'latency',
    stateDir: scratchDir('latency'),
    devices: 10,
    seed: 5,
    durationMs: 6 * 3_600_000,
    speed: (6 * 3_600_000) / 5_000,
    samplePeriodMs: 15_000,
    windowMs: 5 * 60_000,
    anomalyRatePerDay: 8,
  });
  t.after(() => pipeline.close());
  await pipeline.play();
  const summary = await pipeline.finish();
  assert.ok(summary.drained);

  // The cloud's, over HTTP as Prometheus scrapes it.
  const cloud = await scrape(`http://127.0.0.1:${pipeline.cloud.httpPort}/metrics`);
  const windowsWritten = metric(cloud, 'tributary_cloud_windows_written_total');
  assert.equal(windowsWritten, summary.windowsWritten, 'an existing counter, under its old name');
  assert.equal(
    pipeline.agent.counters.get('readings_corrected'),
    0,
    'no corrections in this run: every window written is a first emission',
  );
  assert.equal(
    metric(cloud, 'tributary_cloud_window_end_to_durable_seconds_count'),
    windowsWritten,
    'one observation per window written',
  );
  assert.equal(metric(cloud, 'tributary_cloud_window_end_to_durable_seconds_bucket{le="+Inf"}'), windowsWritten);
  assert.ok(summary.alertsOpened > 0, 'the run opens alerts');
  assert.equal(
    metric(cloud, 'tributary_cloud_window_end_to_alert_seconds_count'),
    summary.alertsOpened,
    'one observation per alert opened',
  );

  // The agent's, labelled with its id.
  const agent = new Map<string, number>();
  for (const line of (await pipeline.agent.prometheus.text()).split('\n'))
    if (line !== '' && !line.startsWith('#'))
      agent.set(line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  const acked = pipeline.agent.counters.get('batches_acked') + pipeline.agent.counters.get('batches_duplicate');
  assert.equal(metric(agent, 'tributary_agent_batches_acked_total'), pipeline.agent.counters.get('batches_acked'));
  assert.equal(
    agent.get('tributary_agent_batch_sealed_to_acked_seconds_count{agent="demo-gw"}'),
    acked,
    'one observation per batch acked',
  );
  const p50 = await pipeline.agent.prometheus.quantile('batch_sealed_to_acked', 0.5);
  assert.ok(p50 !== undefined && p50 > 0 && p50 < 5, `a batch is acked within seconds over loopback (p50 ${p50} s)`);
});
