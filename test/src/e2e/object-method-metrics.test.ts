import assert from 'node:assert/strict';
import { test } from 'node:test';
import { influxQuery } from '../harness/influxd.js';
import { metric, scrape } from '../harness/metrics.js';
import { quietHour } from './scenario.js';

/** Metric names that are also the names of Object.prototype's members: legal names, so real measurements. */
const NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];

test('metrics named constructor, toString, valueOf and hasOwnProperty are measurements of their own, and cost no other reading', {
  timeout: 120_000,
}, async (t) => {
  const { pipeline, influxUrl } = await quietHour(t, 'names', 'mosquitto', 5);

  // Sensor p sends each name three times, among the honest fleet, stamped at the start of the
  // played hour so they do not move the watermark past the fleet; and `__proto__`, which is no
  // metric name.
  const start = pipeline.fleet.options.startMs;
  const odd = NAMES.flatMap((name, n) =>
    [0, 1, 2].map((i) => `{"device":"p","ts":${start},"seq":${n * 3 + i},"values":{"${name}":${i + 1}}}`),
  );
  await pipeline.publishRaw('sensors/p/telemetry', [...odd, `{"device":"p","ts":${start},"values":{"__proto__":1}}`]);
  await pipeline.play();
  // And the issue's own message, as `mosquitto_pub -q 1 -t sensors/p/telemetry -m …` sends it
  // (no clock: arrival time), once the fleet's messages are in.
  await pipeline.received();
  await pipeline.publishRaw('sensors/p/telemetry', ['{"device":"p","values":{"constructor":1}}']);
  const summary = await pipeline.finish();

  assert.equal(summary.drained, true, 'every batch was acked: the agent’s spool drained');
  const c = pipeline.agent.counters;
  assert.equal(c.get('messages_invalid'), 1, '__proto__ is refused with a reason (not a metric name), and counted');
  assert.equal(c.get('invalid_schema'), 1);
  assert.equal(
    summary.readingsAccepted,
    summary.readingsSent + odd.length + 1,
    'every honest reading and every odd one was accepted',
  );
  assert.equal(
    await pipeline.countInInflux(),
    summary.readingsSent,
    'Σ count of the honest fleet’s metrics in InfluxDB equals what it sent',
  );

  for (const name of NAMES) {
    const series = await influxQuery(influxUrl, 'names', `SELECT sum("count") FROM "${name}" WHERE "device" = 'p'`);
    const count = Number(series[0]?.values[0]?.[1] ?? 0);
    assert.equal(
      count,
      name === 'constructor' ? 4 : 3,
      `${name}: its readings are in InfluxDB as measurement "${name}"`,
    );
  }

  const cloud = await scrape(`http://127.0.0.1:${pipeline.cloud.httpPort}/metrics`);
  assert.equal(metric(cloud, 'tributary_cloud_points_unencodable_total'), 0, 'nothing had to be dead-lettered');
  assert.equal(metric(cloud, 'tributary_cloud_batches_failed_total'), 0);
  assert.equal(metric(cloud, 'tributary_cloud_batches_invalid_total'), 0);
});
