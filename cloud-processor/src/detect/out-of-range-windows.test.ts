import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema, type AlertEvent, type WindowResult } from '@tributary/firmware-schemas';
import { windowInput } from '@tributary/storage';
import { AlertLifecycle } from '../alerts/lifecycle.js';
import { detectorPlans } from './registry.js';
import { Detection, MISSING_DATA, OUT_OF_RANGE, type SeriesInput } from './detection.js';
import type { Verdict } from './detector.js';

const config = ProcessorConfigSchema.parse({});
const W = 60_000;
const HOUR = 3_600_000;
const T0 = 1_796_277_600_000;

/**
 * A CO2 sensor's window of `width` ms ending at `end` holding `readings` readings, or (glitch) only
 * readings the agent's range filter removed.
 */
function window(end: number, glitch: boolean, width = W, readings = 1): WindowResult {
  const base = { device: 'env-1', metric: 'co2', start: end - width, end, rev: 0 };
  if (glitch) return { ...base, count: 0, outOfRange: readings };
  const xs = Array.from({ length: readings }, (_, i) => 420 + ((end / width + 3 * i) % 7) - 3);
  const mean = xs.reduce((a, b) => a + b, 0) / readings;
  return {
    ...base,
    count: readings,
    sum: mean * readings,
    min: Math.min(...xs),
    max: Math.max(...xs),
    mean,
    m2: xs.reduce((a, x) => a + (x - mean) ** 2, 0),
    first: xs[0]!,
    last: xs[readings - 1]!,
    firstTs: end - width + 1_000,
    lastTs: end - 1_000,
  };
}

/** Feeds the windows ending in (from, to] one batch a window, each complete up to its end. */
function play(
  d: Detection,
  from: number,
  to: number,
  glitch: (end: number) => boolean,
  width = W,
  readings = 1,
): AlertEvent[] {
  const alerts: AlertEvent[] = [];
  for (let end = from + width; end <= to; end += width)
    alerts.push(...d.ingest('gw', [windowInput(window(end, glitch(end), width, readings))], end));
  return alerts;
}

const opened = (alerts: AlertEvent[]): string[] =>
  alerts
    .filter((a) => a.state === 'opened')
    .map((a) => `${a.device} ${a.metric} ${a.detector} +${(a.at - T0) / W} min`);

test('an hour of windows whose every reading was out of range: a glitch alert naming the device and metric, open all hour, no value verdicts', () => {
  const judged: SeriesInput[] = [];
  const onVerdict = (p: SeriesInput, _v: Verdict): void => void judged.push(p);
  const d = new Detection(
    detectorPlans(config.detection),
    new AlertLifecycle(config.alerts),
    100,
    undefined,
    onVerdict,
  );
  const from = T0 + 8 * HOUR;
  const to = T0 + 9 * HOUR;
  const alerts = play(d, T0, T0 + 10 * HOUR, (end) => end > from && end <= to);
  assert.deepEqual(opened(alerts), [`env-1 co2 ${OUT_OF_RANGE} +${8 * 60 + 1} min`]);
  const glitch = alerts.filter((a) => a.detector === OUT_OF_RANGE);
  assert.ok(
    glitch.every((a) => a.state !== 'resolved' || a.at > to),
    'open through the hour',
  );
  assert.match(glitch[0]!.message, /1 reading\(s\) outside the sensor's physical range/);
  assert.equal(judged.length, 10 * 60 - 60, 'the value detectors judged the windows with values, and only those');
  assert.ok(judged.every((p) => p.count > 0 && Number.isFinite(p.value)));
});

test('a sensor that goes silent after an hour of out-of-range readings is missing from its last glitching window, not its last value', () => {
  const from = T0 + 8 * HOUR;
  const to = T0 + 9 * HOUR;
  /** When silence after `to` is alerted, the last hour glitching or not. */
  const missingAfter = (glitching: boolean): number[] => {
    const d = new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), 100);
    const alerts = play(d, T0, to, (end) => glitching && end > from);
    // Then silence: the agent's watermark moves on, no window comes.
    for (let t = to + W; t <= to + 30 * W; t += W) alerts.push(...d.ingest('gw', [], t));
    return alerts.filter((a) => a.detector === MISSING_DATA && a.state === 'opened').map((a) => (a.at - to) / W);
  };
  const usual = missingAfter(false);
  assert.equal(usual.length, 1);
  assert.deepEqual(missingAfter(true), usual, `minutes after the last window: as after a window with a value`);
});

test('silence after an hour of glitching is told as after values, whatever the windows: the window rules (windows of ten readings) and fast one-reading windows gathered into minutes judge it too', () => {
  const from = T0 + 8 * HOUR;
  const to = T0 + 9 * HOUR;
  for (const [width, readings] of [
    [W, 10],
    [10_000, 1],
  ] as const) {
    /** The missing-data alert's transitions in the half hour of silence after `to`: minutes after it and what it said. */
    const silence = (glitching: boolean): string[] => {
      const d = new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), 100);
      play(d, T0, to, (end) => glitching && end > from, width, readings);
      const alerts: AlertEvent[] = [];
      for (let t = to + width; t <= to + 30 * W; t += width) alerts.push(...d.ingest('gw', [], t));
      return alerts
        .filter((a) => a.detector === MISSING_DATA)
        .map((a) => `${a.state} +${(a.at - to) / 1_000} s: ${a.message}`);
    };
    const usual = silence(false);
    assert.ok(usual.length > 0, `${width / 1_000}-s windows of ${readings}: the silence is alerted`);
    assert.deepEqual(silence(true), usual, `${width / 1_000}-s windows of ${readings}: as after windows with values`);
  }
});
