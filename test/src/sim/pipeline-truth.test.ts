import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BehaviourConfig } from '@tributary/firmware-schemas';
import { Fleet } from '@tributary/device-simulator';
import { startInfluxd } from '../harness/influxd.js';
import { Pipeline } from '../harness/pipeline.js';
import { scratchDir } from '../harness/scratch.js';

/**
 * The simulator tells the truth about what it sent: with malformed payloads, duplicates, seq gaps
 * and out-of-range glitches switched on, the real edge agent's counters match what a replay of the
 * same seed says was sent, and InfluxDB holds exactly the readings the agent accepted.
 */
test('a misbehaving fleet through the real agent and cloud: every counter matches the simulator', {
  timeout: 90_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const stateDir = scratchDir('sim-truth');
  const durationMs = 4 * 3_600_000;
  const pipeline = await Pipeline.start({
    influxUrl: influxd.url,
    database: 'truth',
    stateDir,
    devices: 12,
    seed: 11,
    durationMs,
    speed: durationMs / 3_000,
    samplePeriodMs: 15_000,
    windowMs: 5 * 60_000,
    anomalyRatePerDay: 12,
    anomalyKinds: ['spike', 'out-of-range', 'stuck'],
    fleet: {
      models: [
        {
          prefix: 'env',
          share: 1,
          format: 'json',
          clock: 'synced',
          sensors: [
            { kind: 'co2', samplePeriodMs: 15_000 },
            { kind: 'pressure', samplePeriodMs: 15_000 },
            { kind: 'temperature', samplePeriodMs: 30_000 },
          ],
        },
      ],
      behaviour: BehaviourConfig.parse({ malformedRate: 0.02, duplicateRate: 0.01, seqGapRate: 0.01 }),
    },
  });
  t.after(() => pipeline.close());
  await pipeline.play();
  const summary = await pipeline.finish();

  // What was sent, from a replay of the same fleet (the same seed gives the same frames).
  const sent = { messages: 0, readings: 0, undecodable: 0, outOfRange: 0, duplicates: 0 };
  new Fleet(pipeline.fleet.options).play((f) => {
    sent.messages++;
    sent.readings += f.readings;
    sent.outOfRange += f.outOfRange;
    if (f.readings === 0) sent.undecodable++;
    if (f.role === 'duplicate') sent.duplicates++;
  });
  assert.equal(summary.messagesSent, sent.messages);
  assert.equal(summary.readingsSent, sent.readings);
  assert.ok(sent.undecodable > 10 && sent.outOfRange > 10 && sent.duplicates > 5, JSON.stringify(sent));
  assert.ok(pipeline.fleet.labels.some((l) => l.kind === 'out-of-range'));

  const c = pipeline.agent.counters;
  assert.equal(c.get('messages_received'), sent.messages);
  assert.equal(c.get('messages_invalid'), sent.undecodable, 'every bad payload, and nothing else, is rejected');
  assert.equal(c.get('invalid_bad_json'), sent.undecodable);
  assert.equal(c.get('readings_filtered'), sent.outOfRange, 'every out-of-range value, and nothing else, is filtered');
  assert.equal(summary.readingsAccepted, sent.readings - sent.outOfRange);
  assert.equal(await pipeline.countInInflux(), summary.readingsAccepted);
});
