import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesPoint } from './detector.js';
import { sensorWindows } from './synthetic.js';
import { createWindowRules, WindowRulesConfig } from './window-rules.js';

/** Window indexes at which the rules alarm (score ≥ 0.5). */
function alarms(points: SeriesPoint[]): number[] {
  const d = createWindowRules(WindowRulesConfig.parse({}));
  const out: number[] = [];
  points.forEach((p, i) => {
    if (d.update(p).score >= 0.5) out.push(i);
  });
  return out;
}

const DAY = 288;

test('window rules: a clean daily cycle with noise is not an anomaly', () => {
  assert.deepEqual(alarms(sensorWindows({ seed: 1, windows: 3 * DAY, dailyAmplitude: 4, noise: 0.1, readingsPerWindow: 20 })), []);
});

test('window rules: a one-reading spike and a one-reading dip are caught in their window', () => {
  const spike = sensorWindows({ seed: 2, windows: DAY, dailyAmplitude: 4, noise: 0.1, readingsPerWindow: 20, fault: (w, r, x) => (w === 150 && r === 7 ? x + 3 : w === 200 && r === 3 ? x - 3 : x) });
  assert.deepEqual(alarms(spike), [150, 200]);
});

test('window rules: a level shift is caught where it starts', () => {
  const shifted = sensorWindows({ seed: 3, windows: DAY, dailyAmplitude: 4, noise: 0.1, readingsPerWindow: 20, fault: (w, _r, x) => (w >= 180 && w < 200 ? x + 2 : x) });
  assert.ok(alarms(shifted).includes(180));
});

test('window rules: a noise burst and a stuck sensor are caught', () => {
  let held = 0;
  const faulty = sensorWindows({
    seed: 4,
    windows: DAY,
    noise: 0.1,
    readingsPerWindow: 20,
    fault: (w, r, x) => {
      if (w >= 100 && w < 103) return x + (r % 2 ? 1 : -1) * 0.8;
      if (w === 200 && r === 0) held = x;
      return w >= 200 && w < 210 ? held : x;
    },
  });
  const a = alarms(faulty);
  assert.ok(a.includes(100), `burst at 100 in ${a}`);
  assert.ok(a.includes(201), `stuck from 201 in ${a}`);
  assert.ok(a.every((i) => (i >= 100 && i < 103) || (i >= 200 && i < 210)), `nothing else: ${a}`);
});

test('window rules: a machine switching on and off is its normal life once its levels are known', () => {
  // Off (0.1 ± 0.03) and running (4.5 ± 0.25), switching every 1–4 hours, mid-window included.
  const points = sensorWindows({ seed: 5, windows: 3 * DAY, base: 0, noise: 0, readingsPerWindow: 60, fault: (w, r, x) => {
    const t = w + r / 60;
    const on = Math.floor(t / 31) % 3 !== 0;
    const n = Math.sin(w * 7.1 + r * 13.7) * 1.7;
    return x + (on ? 4.5 + 0.25 * n : 0.1 + 0.03 * n);
  } });
  const late = alarms(points).filter((i) => i > DAY);
  assert.deepEqual(late, [], 'no alarm after the first day');
});

test('window rules: tick reports whole windows missing against the series’ own cadence', () => {
  const d = createWindowRules(WindowRulesConfig.parse({}));
  const points = sensorWindows({ seed: 6, windows: 40, noise: 0.1 });
  for (const p of points) d.update(p);
  const last = points.at(-1)!.ts;
  assert.equal(d.tick!(last + 300_000).score, 0, 'the next window is simply not due yet');
  assert.ok(d.tick!(last + 2 * 300_000).score >= 0.5, 'one whole window missing');
});

test('window rules: a snapshot continues exactly', () => {
  const points = sensorWindows({ seed: 7, windows: 400, dailyAmplitude: 3, noise: 0.1, fault: (w, r, x) => (w === 350 && r === 1 ? x + 5 : x) });
  const whole = createWindowRules(WindowRulesConfig.parse({}));
  const first = createWindowRules(WindowRulesConfig.parse({}));
  const a = points.map((p) => whole.update(p).score);
  const b = points.slice(0, 200).map((p) => first.update(p).score);
  const resumed = createWindowRules(WindowRulesConfig.parse({}), JSON.parse(JSON.stringify(first.snapshot())));
  b.push(...points.slice(200).map((p) => resumed.update(p).score));
  assert.deepEqual(b, a);
});
