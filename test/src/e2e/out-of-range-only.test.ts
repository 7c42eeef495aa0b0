import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { fromInflux, OUT_OF_RANGE, MISSING_DATA, replay } from '@tributary/cloud-processor';
import { ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { Rng } from '@tributary/device-simulator';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';

const HOUR = 3_600_000;
const brief = (a: AlertEvent): string => `${a.at} ${a.id} ${a.state} ${a.severity} ${a.score.toFixed(9)} ${a.message}`;

/**
 * A real influxd, and the agent and cloud processor with one-minute windows: the messages are the
 * test's own (publishInOrder), sensors reading once a minute, so a window holds one reading.
 */
async function minuteWindows(t: TestContext, database: string, lateReadings: 'drop' | 're-emit') {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database,
    stateDir: scratchDir(database),
    devices: 1,
    seed: 3,
    durationMs: 60_000,
    speed: 1,
    samplePeriodMs: 60_000,
    windowMs: 60_000,
    lateReadings,
    anomalyRatePerDay: 0,
  });
  t.after(() => pipeline.close());
  /** The alerts replay raises from what InfluxDB holds, against the live run's. */
  const replayed = async (): Promise<{ replayed: string[]; live: string[] }> => {
    const stored = await fromInflux({ url: influxd.url, database, metrics: [] });
    return {
      replayed: replay(ProcessorConfigSchema.parse({}), stored).alerts.map(brief).sort(),
      live: pipeline.alerts.map(brief).sort(),
    };
  };
  const query = (q: string) => influxQuery(influxd.url, database, q);
  return { pipeline, query, replayed };
}

test('a sensor whose every reading is out of range for an hour is alerted as glitching, not as silent; InfluxDB keeps the counts and replay agrees', {
  timeout: 120_000,
}, async (t) => {
  const { pipeline, query, replayed } = await minuteWindows(t, 'glitching', 'drop');
  // Two CO2 sensors, one reading a minute (one per window) for the twelve hours that just ended.
  // From hour 8 to 9 every reading of env-1 is far beyond the range filter's 10,000 ppm: the agent
  // removes each one, so each of those windows holds no reading, only the one it removed.
  const start = Math.floor((Date.now() - 12 * HOUR) / 60_000) * 60_000;
  const glitchFrom = start + 8 * HOUR;
  const glitchTo = start + 9 * HOUR;
  const rng = new Rng(4);
  const messages: Array<{ topic: string; payload: string }> = [];
  for (let ts = start + 30_000; ts < start + 12 * HOUR; ts += 60_000)
    for (const device of ['env-1', 'env-2']) {
      const glitch = device === 'env-1' && ts >= glitchFrom && ts < glitchTo;
      const co2 = glitch ? 65_535 : Math.round(420 + rng.normal() * 3);
      messages.push({ topic: `sensors/${device}/telemetry`, payload: JSON.stringify({ device, ts, values: { co2 } }) });
    }
  await pipeline.publishInOrder(messages);
  await pipeline.finish();

  assert.equal(pipeline.agent.counters.get('filtered_range'), 60);
  assert.equal(pipeline.agent.counters.get('windows_out_of_range_only'), 60, 'each glitching window was sent as such');
  const opened = pipeline.alerts.filter((a) => a.state === 'opened');
  const glitching = opened.filter((a) => a.detector === OUT_OF_RANGE);
  assert.deepEqual(
    glitching.map((a) => [a.device, a.metric, a.at]),
    [['env-1', 'co2', glitchFrom + 60_000]],
    'one out-of-range alert, naming the device and metric, at the end of the first glitching window',
  );
  assert.match(glitching[0]!.message, /outside the sensor's physical range/);
  const resolved = pipeline.alerts.find((a) => a.id === glitching[0]!.id && a.state === 'resolved');
  assert.ok(resolved && resolved.at > glitchTo, 'the alert stays open through the glitching hour');
  assert.deepEqual(
    opened.filter((a) => a.detector === MISSING_DATA).map((a) => `${a.device} ${a.at}`),
    [],
    'a sensor that keeps reporting, out of range, is not silent',
  );

  // Stored: count 0, the count removed and the window's length; no value field (none NaN, none made up).
  const rows = await query(
    `SELECT "count", "out_of_range", "mean", "min", "length_ms" FROM "co2" WHERE "device" = 'env-1' AND time > ${glitchFrom}ms AND time <= ${glitchTo}ms`,
  );
  const values = rows[0]?.values ?? [];
  assert.equal(values.length, 60);
  for (const row of values) assert.deepEqual(row.slice(1), [0, 1, null, null, 60_000]);
  const mean = await query(`SELECT mean("mean"), max("max") FROM "co2" WHERE "device" = 'env-1'`);
  const [, meanOfMeans, maxOfMax] = (mean[0]?.values[0] ?? []) as [unknown, number, number];
  assert.ok(
    Math.abs(meanOfMeans - 420) < 2 && maxOfMax < 500,
    `the series' statistics are its readings' (${meanOfMeans}, ${maxOfMax})`,
  );

  // Replay from InfluxDB judges the stored windows as the live run judged them.
  const again = await replayed();
  assert.deepEqual(again.replayed, again.live);
});

test('a window of out-of-range readings only, corrected by a late reading: stored with what was judged (count 0), and replay agrees', {
  timeout: 120_000,
}, async (t) => {
  const { pipeline, query, replayed } = await minuteWindows(t, 'glitch_corrected', 're-emit');
  // One reading a minute for six hours; the one of the window ending at hour 5 is out of range, and
  // five minutes later a late reading of that window comes in range: the agent sends the window
  // first as out-of-range only (count 0), then corrected (rev 1) with the late reading.
  const start = Math.floor((Date.now() - 6 * HOUR) / 60_000) * 60_000;
  const glitchEnd = start + 5 * HOUR;
  const rng = new Rng(5);
  const messages: Array<{ topic: string; payload: string }> = [];
  const reading = (ts: number, co2: number): void => {
    messages.push({
      topic: 'sensors/env-1/telemetry',
      payload: JSON.stringify({ device: 'env-1', ts, values: { co2 } }),
    });
  };
  for (let ts = start + 30_000; ts < start + 6 * HOUR; ts += 60_000) {
    reading(ts, ts === glitchEnd - 30_000 ? 65_535 : Math.round(420 + rng.normal() * 3));
    if (ts === glitchEnd + 5 * 60_000 - 30_000) reading(glitchEnd - 10_000, 421);
  }
  await pipeline.publishInOrder(messages);
  await pipeline.finish();

  assert.equal(pipeline.agent.counters.get('readings_corrected'), 1);
  assert.equal(
    pipeline.cloud.counters.get('corrections_unjudged'),
    0,
    'the correction was stored with what was judged',
  );
  assert.deepEqual(
    pipeline.alerts.filter((a) => a.state === 'opened').map((a) => [a.device, a.metric, a.detector, a.at]),
    [['env-1', 'co2', OUT_OF_RANGE, glitchEnd]],
  );
  const rows = await query(
    `SELECT "count", "mean", "out_of_range", "rev", "judged_count", "judged_mean", "judged_out_of_range" FROM "co2" WHERE time = ${glitchEnd}ms`,
  );
  assert.deepEqual(
    rows[0]?.values[0]?.slice(1),
    [1, 421, 1, 1, 0, null, 1],
    'corrected aggregates, and the judged count 0',
  );
  const again = await replayed();
  assert.deepEqual(again.replayed, again.live);
});
