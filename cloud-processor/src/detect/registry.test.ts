import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { rawPoint } from './detector.js';
import { createDetector, detectorPlans, DetectorConfigError, type DetectorPlan } from './registry.js';

test('the processor config defaults to the ensemble, which needs no settings', () => {
  const config = ProcessorConfigSchema.parse({});
  assert.equal(config.detection.detector, 'ensemble');
  const d = detectorPlans(config.detection)('temperature').create();
  assert.equal(d.update(rawPoint(0, 1)).score, 0);
});

test('a metric can have its own detector, settings and sensitivity', () => {
  const config = ProcessorConfigSchema.parse({
    detection: {
      sensitivity: 2,
      metrics: {
        vibration: { detector: 'robust-zscore', settings: { historyMs: 6_000_000 } },
        humidity: { sensitivity: 0.5 },
      },
    },
  });
  const plans = detectorPlans(config.detection);
  assert.deepEqual([plans('vibration').name, plans('vibration').sensitivity], ['robust-zscore', 2]);
  assert.deepEqual([plans('humidity').name, plans('humidity').sensitivity], ['ensemble', 0.5]);
  assert.deepEqual([plans('temperature').name, plans('temperature').sensitivity], ['ensemble', 2]);
  const snapshot = plans('vibration').create().snapshot() as { history: { value: number[] } };
  assert.deepEqual(snapshot.history.value, []);
});

test('an unknown detector or a bad setting is a typed error naming the key', () => {
  assert.throws(
    () => detectorPlans(ProcessorConfigSchema.parse({ detection: { detector: 'magic' } }).detection),
    DetectorConfigError,
  );
  assert.throws(
    () => detectorPlans(ProcessorConfigSchema.parse({ detection: { settings: { refractoryPoints: -1 } } }).detection),
    (e: unknown) => e instanceof DetectorConfigError && /detection\.settings\.refractoryPoints/.test(e.message),
  );
  assert.throws(
    () =>
      detectorPlans(ProcessorConfigSchema.parse({ detection: { metrics: { co2: { detector: 'nope' } } } }).detection),
    (e: unknown) => e instanceof DetectorConfigError && /detection\.metrics\.co2\.detector/.test(e.message),
  );
  // A misspelt setting, at the top or inside a member's settings, is named instead of ignored.
  assert.throws(
    () =>
      detectorPlans(
        ProcessorConfigSchema.parse({
          detection: { metrics: { co2: { detector: 'robust-zscore', settings: { historyMsec: 96 } } } },
        }).detection,
      ),
    (e: unknown) =>
      e instanceof DetectorConfigError &&
      /detection\.metrics\.co2\.settings\.historyMsec: unknown key \(expected one of .*historyMs/.test(e.message),
  );
});

test('another default detector starts from its own settings; a metric back on the ensemble gets the processor’s ensemble', () => {
  const plans = detectorPlans(
    ProcessorConfigSchema.parse({
      detection: {
        detector: 'robust-zscore',
        metrics: { co2: { detector: 'ensemble' }, humidity: { sensitivity: 2 } },
      },
    }).detection,
  );
  assert.equal(plans('temperature').name, 'robust-zscore');
  assert.equal(plans('humidity').name, 'robust-zscore');
  // A metric back on the ensemble gets the processor's ensemble (its defaults are the processor's: one configuration).
  assert.equal(plans('co2').name, 'ensemble');
  const state = (plan: DetectorPlan): string => JSON.stringify(plan.create().snapshot());
  assert.equal(state(plans('co2')), state(detectorPlans(ProcessorConfigSchema.parse({}).detection)('co2')));
  assert.equal(state(plans('co2')), JSON.stringify(createDetector('ensemble', {}).snapshot()));
});
