import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromInflux, replay } from '@tributary/cloud-processor';
import { ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { startInfluxd } from '../harness/influxd.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';

const brief = (a: AlertEvent): string => `${a.at} ${a.id} ${a.state} ${a.severity} ${a.score.toFixed(9)} ${a.message}`;
/** Transitions in event-time order; several series at one instant come in no particular order. */
const sorted = (alerts: readonly AlertEvent[]): string[] => alerts.map(brief).sort();

test('replaying the stored windows gives exactly the alerts the live run raised; GET /api/alerts lists them', { timeout: 120_000 }, async (t) => {
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
    assert.ok(live.some((a) => a.detector === detector && a.state === 'opened'), `the live run raised a ${detector} alert, which replay must reproduce`);
  }
  const api = (await (await fetch(`http://127.0.0.1:${pipeline.cloud.httpPort}/api/alerts`)).json()) as { open: unknown[]; recent: AlertEvent[] };
  assert.deepEqual(api.recent.map(brief), live.map(brief), 'the API lists the transitions as they happened, in order');
  assert.equal(api.open.length, pipeline.cloud.alerts.openCount);

  const stored = await fromInflux({ url: influxd.url, database: 'replay', metrics: [] });
  const replayed = replay(ProcessorConfigSchema.parse({}), stored);
  assert.deepEqual(sorted(replayed.alerts), sorted(live), 'replay through the same code raises the same alerts, at the same times, with the same scores and words');
});
