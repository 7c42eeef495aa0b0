import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startInfluxd } from '../harness/influxd.js';
import { startMosquitto } from '../harness/mosquitto.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';

const WINDOW_MS = 5 * 60_000;

/**
 * simulator → edge agent → broker → cloud processor → real influxd, then the checks a user would
 * make: every accepted reading is in InfluxDB exactly once, every injected spike raised an alert,
 * and no alert is left open on a device that had no anomaly.
 */
export async function endToEnd(
  t: TestContext,
  broker: 'embedded aedes' | 'mosquitto',
  uplink: 'mqtt' | 'http' = 'mqtt',
): Promise<void> {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  // No in-flight window: Mosquitto sends what it queues past one in no set order, and at this replay
  // speed (4,800×) a device's readings reordered by a few ms are minutes apart, late (README, "Using an
  // external MQTT broker"). The agent's acks wait for its write-ahead log, so the window would fill.
  const mosquitto = broker === 'mosquitto' ? await startMosquitto({ maxInflightMessages: 0 }) : undefined;
  if (mosquitto) t.after(() => mosquitto.stop());
  const stateDir = scratchDir('e2e');

  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'e2e',
    ...(mosquitto ? { brokerUrl: mosquitto.url } : {}),
    stateDir,
    uplink,
    devices: 20,
    seed: 7,
    durationMs: 8 * 3_600_000,
    speed: (8 * 3_600_000) / 6_000,
    samplePeriodMs: 15_000,
    windowMs: WINDOW_MS,
    anomalyRatePerDay: 3,
  });
  t.after(() => pipeline.close());
  await pipeline.play();
  const summary = await pipeline.finish();

  assert.ok(summary.drained, 'the cloud acked every batch');
  assert.ok(summary.readingsSent > 50_000, `a run of some size (${summary.readingsSent} readings)`);
  assert.equal(summary.readingsAccepted, summary.readingsSent, 'the agent accepted every reading the fleet sent');
  assert.equal(
    await pipeline.countInInflux(),
    summary.readingsAccepted,
    'Σ count in InfluxDB equals the readings the agent accepted',
  );

  const spikes = pipeline.fleet.labels.filter((l) => l.kind === 'spike');
  assert.ok(spikes.length >= 3, `the run injects spikes (${spikes.length})`);
  const opened = pipeline.alerts.filter((a) => a.state === 'opened');
  for (const spike of spikes) {
    const hit = opened.some(
      (a) =>
        a.device === spike.device &&
        a.metric === spike.metric &&
        a.openedAt >= spike.start &&
        a.openedAt <= spike.end + 2 * WINDOW_MS,
    );
    assert.ok(
      hit,
      `spike on ${spike.device} ${spike.metric} at ${new Date(spike.start).toISOString()} raised an alert`,
    );
  }
  const anomalous = new Set(pipeline.fleet.labels.map((l) => l.device));
  const strayOpen = pipeline.cloud.alerts.openAlerts().filter((a) => !anomalous.has(a.device));
  assert.deepEqual(strayOpen, [], 'no alert is open for a device without an injected anomaly');
}

/**
 * A small quiet fleet (3 devices, one simulated hour played in about 2 s, one-minute windows, no
 * anomalies) through the real parts, for tests that add hostile input of their own. Everything
 * started is stopped after the test.
 */
export async function quietHour(
  t: TestContext,
  database: string,
  broker: 'embedded aedes' | 'mosquitto',
  seed: number,
): Promise<{ pipeline: Pipeline; influxUrl: string }> {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const mosquitto = broker === 'mosquitto' ? await startMosquitto() : undefined;
  if (mosquitto) t.after(() => mosquitto.stop());
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database,
    ...(mosquitto ? { brokerUrl: mosquitto.url } : {}),
    stateDir: scratchDir(database),
    devices: 3,
    seed,
    durationMs: 3_600_000,
    speed: 3_600_000 / 2_000,
    samplePeriodMs: 15_000,
    windowMs: 60_000,
    anomalyRatePerDay: 0,
  });
  t.after(() => pipeline.close());
  return { pipeline, influxUrl: influxd.url };
}
