import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { windowInput } from '@tributary/storage';
import { AlertLifecycle } from '../alerts/lifecycle.js';
import { detectorPlans } from './registry.js';
import { Detection } from './detection.js';
import type { Verdict } from './detector.js';

const config = ProcessorConfigSchema.parse({});
const W = 60_000;
const T0 = 1_796_277_600_000;

test("Detection's onVerdict hook gets verdicts of their own, which a caller may keep and copy (not the thread's reused verdict)", () => {
  const kept: Verdict[] = [];
  const d = new Detection(
    detectorPlans(config.detection),
    new AlertLifecycle(config.alerts),
    10,
    undefined,
    (_p, v) => void kept.push(v),
  );
  for (let i = 1; i <= 4_320; i++) {
    const end = T0 + i * W;
    const value = 20 + Math.sin(i / 30) + (i === 4_000 ? 15 : 0);
    const w = { device: 'd-1', metric: 'temp', start: end - W, end, rev: 0, count: 1, sum: value };
    const window = { ...w, min: value, max: value, mean: value, m2: 0, first: value, last: value };
    d.ingest('gw', [windowInput({ ...window, firstTs: end - W + 1_000, lastTs: end - W + 1_000 })], end);
  }
  assert.equal(kept.length, 4_320);
  assert.equal(new Set(kept).size, 4_320, 'one object a verdict');
  for (const v of kept) {
    const copy = { ...v };
    assert.equal(typeof copy.reason, 'string', 'a spread copy keeps the reason');
    assert.equal(JSON.parse(JSON.stringify(v)).reason, v.reason);
  }
  assert.ok(
    kept.some((v) => v.score > 0),
    'the 15-degree jump on the third day was judged',
  );
});
