import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';

test('hostile device ids: escaped into one point, or rejected at the agent with a reason, and nothing else lost', { timeout: 60_000 }, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const stateDir = scratchDir('hostile');
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'hostile',
    stateDir,
    devices: 3,
    seed: 3,
    durationMs: 3_600_000,
    speed: 3_600_000 / 2_000,
    samplePeriodMs: 15_000,
    windowMs: 60_000,
    anomalyRatePerDay: 0,
  });
  t.after(() => pipeline.close());

  // Stamped at the start of the simulated hour, so they do not move the watermark past the fleet.
  const start = pipeline.fleet.options.startMs;
  const tricky = 'dev 1,a=b';
  const payload = (device: string, i: number): string => JSON.stringify({ device, ts: start + i * 1000, seq: i, values: { temperature: 20 + i } });
  // One id InfluxDB must see verbatim as a tag value, and ids that must never reach it.
  await pipeline.publishRaw('sensors/tricky/telemetry', [payload(tricky, 0), payload(tricky, 1), payload(tricky, 2)]);
  await pipeline.publishRaw('sensors/bad/telemetry', [payload('bad\nid', 0), payload('bell\u0007id', 1), payload('nul\u0000id', 2), payload('temperature,device=x value=1', 3)]);
  await pipeline.play();
  const summary = await pipeline.finish();

  const c = pipeline.agent.counters;
  assert.equal(c.get('invalid_bad_id'), 3, 'newline, BEL and NUL ids are rejected with their own reason');
  assert.equal(c.get('messages_invalid'), 3);
  assert.equal(summary.readingsAccepted, summary.readingsSent + 4, 'every other reading was accepted: the fleet’s and the 4 of the valid odd ids');
  assert.equal(await pipeline.countInInflux(), summary.readingsAccepted, 'nothing else was lost on the way to InfluxDB');

  const tags = await influxQuery(influxd.url, 'hostile', 'SHOW TAG VALUES FROM "temperature" WITH KEY = "device"');
  const devices = (tags[0]?.values ?? []).map((row) => row[1]);
  assert.ok(devices.includes(tricky), `InfluxDB holds the tag value ${JSON.stringify(tricky)} exactly (has ${JSON.stringify(devices)})`);
  assert.ok(devices.includes('temperature,device=x value=1'), 'a line-protocol-looking id is one tag value too');
  assert.ok(!devices.some((d) => typeof d === 'string' && /[\n\u0000\u0007]/.test(d)), 'no control character reached InfluxDB');
  const points = await influxQuery(influxd.url, 'hostile', `SELECT "count" FROM "temperature" WHERE "device" = 'dev 1,a=b'`);
  const total = (points[0]?.values ?? []).reduce((n, row) => n + Number(row[1]), 0);
  assert.equal(total, 3, 'the three readings of the tricky id are in InfluxDB under that one tag value');
});
