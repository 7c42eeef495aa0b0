import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counters } from './counters.js';
import { histogramQuantile, ProcessMetrics } from './metrics.js';

test('counters and gauges keep their names and help on /metrics; values are read when scraped', async () => {
  const counters = new Counters({ batches_written: 'batches whose points are durable', acks_sent: 'acks published' });
  let depth = 3;
  counters.gauge('backlog_batches', () => depth);
  const metrics = new ProcessMetrics('tributary_cloud', { agent: 'gw "1"' }).expose(counters);
  counters.inc('batches_written', 5);
  const text = await metrics.text();
  assert.match(text, /^# HELP tributary_cloud_batches_written_total batches whose points are durable$/m);
  assert.match(text, /^# TYPE tributary_cloud_batches_written_total counter$/m);
  assert.match(text, /^tributary_cloud_batches_written_total\{agent="gw \\"1\\""\} 5$/m, 'label values escaped');
  assert.match(text, /^tributary_cloud_acks_sent_total\{[^}]*\} 0$/m);
  assert.match(text, /^# TYPE tributary_cloud_backlog_batches gauge$/m);
  counters.inc('batches_written', 2);
  depth = 7;
  const again = await metrics.text();
  assert.match(
    again,
    /^tributary_cloud_batches_written_total\{[^}]*\} 7$/m,
    'a second scrape sees the increments since the first',
  );
  assert.match(again, /^tributary_cloud_backlog_batches\{[^}]*\} 7$/m);
});

test('a family by label is read afresh at each scrape (agents come and go)', async () => {
  const metrics = new ProcessMetrics('tributary_cloud');
  let agents: Array<[string, number]> = [
    ['a', 1],
    ['b', 2],
  ];
  metrics.family('counter', 'agent_duplicate_batches', 'duplicates per agent', 'agent', () => agents);
  assert.match(await metrics.text(), /^tributary_cloud_agent_duplicate_batches_total\{agent="b"\} 2$/m);
  agents = [['a', 4]];
  const text = await metrics.text();
  assert.match(text, /^tributary_cloud_agent_duplicate_batches_total\{agent="a"\} 4$/m);
  assert.doesNotMatch(text, /agent="b"/);
});

test('latency histograms: seconds in cumulative buckets, quantiles interpolated as histogram_quantile does', async () => {
  const metrics = new ProcessMetrics('tributary_agent');
  const h = metrics.latency('batch_ack', 'sealed to acked', [0.1, 1, 10]);
  assert.equal(await histogramQuantile(h, 0.5), undefined, 'no observations, no quantile');
  for (const s of [0.05, 0.2, 0.4, 0.6, 0.8, 5]) h.observe(s);
  const text = await metrics.text();
  assert.match(text, /^tributary_agent_batch_ack_seconds_bucket\{le="0.1"\} 1$/m);
  assert.match(text, /^tributary_agent_batch_ack_seconds_bucket\{le="1"\} 5$/m);
  assert.match(text, /^tributary_agent_batch_ack_seconds_bucket\{le="\+Inf"\} 6$/m);
  assert.match(text, /^tributary_agent_batch_ack_seconds_count 6$/m);
  // rank 3 of 6 lies in (0.1, 1], which holds observations 2..5: 0.1 + 0.9 × (3 − 1) / 4
  assert.ok(Math.abs((await histogramQuantile(h, 0.5))! - 0.55) < 1e-9);
  assert.ok(Math.abs((await histogramQuantile(h, 0.99))! - (1 + 9 * (5.94 - 5))) < 1e-9);
  h.observe(100);
  h.observe(100);
  h.observe(100);
  h.observe(100);
  h.observe(100);
  assert.equal(await histogramQuantile(h, 0.99), 10, 'above the highest bound: that bound');
});
