import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { rawPoint } from './detector.js';
import { detectorFactoryFromConfig, DetectorConfigError } from './registry.js';

test('the processor config defaults to the ensemble, which needs no settings', () => {
  const config = ProcessorConfigSchema.parse({});
  assert.equal(config.detection.detector, 'ensemble');
  const d = detectorFactoryFromConfig(config.detection)();
  assert.equal(d.update(rawPoint(0, 1)).score, 0);
});

test('the legacy robust z-score keys still configure robust-zscore', () => {
  const config = ProcessorConfigSchema.parse({ detection: { detector: 'robust-zscore', historyWindows: 20, zThreshold: 5 } });
  const snapshot = detectorFactoryFromConfig(config.detection)().snapshot() as { history: { value: number[] } };
  assert.deepEqual(snapshot.history.value, []);
});

test('an unknown detector or a bad setting is a typed error naming the key', () => {
  assert.throws(() => detectorFactoryFromConfig(ProcessorConfigSchema.parse({ detection: { detector: 'magic' } }).detection), DetectorConfigError);
  assert.throws(
    () => detectorFactoryFromConfig(ProcessorConfigSchema.parse({ detection: { settings: { refractoryPoints: -1 } } }).detection),
    (e: unknown) => e instanceof DetectorConfigError && /detection\.settings\.refractoryPoints/.test(e.message),
  );
});
