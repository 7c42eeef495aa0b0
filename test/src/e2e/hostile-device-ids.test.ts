import assert from 'node:assert/strict';
import { test } from 'node:test';
import { influxQuery } from '../harness/influxd.js';
import { quietHour } from './scenario.js';

test('hostile device ids: escaped into one point, or rejected at the agent with a reason, and nothing else lost', {
  timeout: 60_000,
}, async (t) => {
  const { pipeline, influxUrl } = await quietHour(t, 'hostile', 'embedded aedes', 3);

  // Stamped at the start of the simulated hour, so they do not move the watermark past the fleet.
  const start = pipeline.fleet.options.startMs;
  const tricky = 'dev 1,a=b';
  const payload = (device: string, i: number): string =>
    JSON.stringify({ device, ts: start + i * 1000, seq: i, values: { temperature: 20 + i } });
  // One id InfluxDB must see verbatim as a tag value, and ids that must never reach it.
  await pipeline.publishRaw('sensors/tricky/telemetry', [payload(tricky, 0), payload(tricky, 1), payload(tricky, 2)]);
  await pipeline.publishRaw('sensors/bad/telemetry', [
    payload('bad\nid', 0),
    payload('bell\u0007id', 1),
    payload('nul\u0000id', 2),
    payload('temperature,device=x value=1', 3),
  ]);
  // Ids that differ only in a lone UTF-16 surrogate (JSON.stringify writes it as \udXXX): as UTF-8
  // both would be `sur\uFFFD`, one series in InfluxDB, so they are not well-formed ids.
  const surrogates = ['sur\ud800', 'sur\udbff'];
  await pipeline.publishRaw(
    'sensors/sur/telemetry',
    surrogates.flatMap((id) => Array.from({ length: 10 }, (_, i) => payload(id, i))),
  );
  await pipeline.play();
  const summary = await pipeline.finish();

  const c = pipeline.agent.counters;
  assert.equal(
    c.get('invalid_bad_id'),
    3 + 20,
    'newline, BEL and NUL ids, and the 20 with a lone surrogate, are rejected with their own reason',
  );
  assert.equal(c.get('messages_invalid'), 3 + 20);
  assert.equal(
    summary.readingsAccepted,
    summary.readingsSent + 4,
    'every other reading was accepted: the fleet’s and the 4 of the valid odd ids',
  );
  assert.equal(
    await pipeline.countInInflux(),
    summary.readingsAccepted,
    'nothing else was lost on the way to InfluxDB',
  );

  const tags = await influxQuery(influxUrl, 'hostile', 'SHOW TAG VALUES FROM "temperature" WITH KEY = "device"');
  const devices = (tags[0]?.values ?? []).map((row) => row[1]);
  assert.ok(
    devices.includes(tricky),
    `InfluxDB holds the tag value ${JSON.stringify(tricky)} exactly (has ${JSON.stringify(devices)})`,
  );
  assert.ok(devices.includes('temperature,device=x value=1'), 'a line-protocol-looking id is one tag value too');
  assert.ok(
    !devices.some((d) => typeof d === 'string' && /[\n\u0000\u0007]/.test(d)),
    'no control character reached InfluxDB',
  );
  assert.ok(
    !devices.some((d) => typeof d === 'string' && d.startsWith('sur')),
    'no id with a lone surrogate reached InfluxDB (as U+FFFD)',
  );
  const points = await influxQuery(
    influxUrl,
    'hostile',
    `SELECT "count" FROM "temperature" WHERE "device" = 'dev 1,a=b'`,
  );
  const total = (points[0]?.values ?? []).reduce((n, row) => n + Number(row[1]), 0);
  assert.equal(total, 3, 'the three readings of the tricky id are in InfluxDB under that one tag value');
});
