import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng, sensorKinds } from '@tributary/device-simulator';
import { expectedShift, falseAlarmThreshold, firstAlarm, glrStep, oracleDriftDelay } from './drift-oracle.js';

const WINDOW_MS = 300_000;
const temperature = sensorKinds.temperature;

test('the oracle sees what the drift adds, in units of the weather step or of the window mean noise', () => {
  const drift = { kind: temperature, readingsPerWindow: 20, magnitude: 4, rampWindows: 48, startInWindow: 0 };
  const a = Math.exp(-WINDOW_MS / temperature.weatherTauMs);
  const weatherStep = temperature.weatherStd * Math.sqrt(1 - a * a);
  const weather = expectedShift(drift, WINDOW_MS, 'weather')!;
  // x_j − a·x_{j−1} of a ramp of 4/48 per window: a step of the ramp plus the little the walk pulls back.
  assert.ok(Math.abs(weather[0]! - 4 / 48 / weatherStep) < 1e-12);
  assert.ok(Math.abs(weather[10]! * weatherStep - ((4 * 11) / 48 - (a * 4 * 10) / 48)) < 1e-12);
  const noise = expectedShift(drift, WINDOW_MS, 'noise')!;
  assert.ok(
    Math.abs(noise[5]! * (temperature.noise / Math.sqrt(20)) - (4 * 5.5) / 48) < 1e-12,
    'the mean of window 5 is the ramp at 5.5 windows',
  );
  assert.equal(
    expectedShift({ ...drift, kind: sensorKinds.vibration }, WINDOW_MS, 'weather'),
    undefined,
    'no weather, nothing to relax',
  );
});

test('the GLR step is the largest log-likelihood ratio over every start within the ramp, computed directly', () => {
  const profile = Float64Array.from({ length: 12 }, (_, j) => 0.1 + 0.07 * j * j);
  const rng = new Rng('glr');
  const ys = Array.from({ length: 40 }, () => rng.normal() + 0.5);
  const llr = new Float64Array(profile.length);
  ys.forEach((_, k) => {
    const got = glrStep(profile, llr, k, ys[k]!);
    let want = -Infinity;
    for (let c = 0; c < Math.min(k + 1, profile.length); c++) {
      let sum = 0;
      for (let i = 0; i <= c; i++) sum += profile[i]! * ys[k - c + i]! - profile[i]! ** 2 / 2;
      want = Math.max(want, sum);
    }
    assert.ok(Math.abs(got - want) < 1e-9, `step ${k}: ${got} against ${want}`);
  });
});

test('the threshold gives a false alarm on the share of clean series-days asked for', () => {
  const profile = new Float64Array(40).fill(0.4);
  for (const share of [0.5, 1 / 30]) {
    const threshold = falseAlarmThreshold(profile, new Rng(`calibrate-${share}`), share, 288);
    const rng = new Rng(`check-${share}`);
    const llr = new Float64Array(profile.length);
    let alarmedDays = 0;
    const days = 600;
    for (let day = 0, age = 0; day < days; day++) {
      let alarmed = false;
      for (let w = 0; w < 288; w++, age++) if (glrStep(profile, llr, age, rng.normal()) >= threshold) alarmed = true;
      if (alarmed) alarmedDays++;
    }
    const seen = alarmedDays / days;
    assert.ok(
      seen > share * 0.6 && seen < share * 1.5,
      `share ${share.toFixed(3)}: alarms on ${(100 * seen).toFixed(1)}% of clean days`,
    );
  }
});

test('a shift of one noise σ per window is found in the time the CUSUM law gives', () => {
  const profile = new Float64Array(200).fill(1);
  const rng = new Rng('shift');
  const threshold = falseAlarmThreshold(profile, rng, 0.5, 288);
  const delays = Array.from({ length: 300 }, () => firstAlarm(profile, threshold, rng));
  const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
  // Lorden/Siegmund: about (h + 1.166·μ − 1)/(μ²/2) steps, here with μ = 1.
  const expected = (threshold + 1.166 - 1) / 0.5;
  assert.ok(
    mean > expected * 0.75 && mean < expected * 1.25,
    `mean delay ${mean.toFixed(2)} windows, law ${expected.toFixed(2)}`,
  );
});

test('a bigger drift is found sooner; one far beyond the weather in its first window', () => {
  const base = { kind: temperature, readingsPerWindow: 20, rampWindows: 36, startInWindow: 0.25 };
  const small = oracleDriftDelay({ ...base, magnitude: 2 }, WINDOW_MS, new Rng('small'));
  const usual = oracleDriftDelay({ ...base, magnitude: 4 }, WINDOW_MS, new Rng('usual'));
  const huge = oracleDriftDelay({ ...base, magnitude: 400 }, WINDOW_MS, new Rng('huge'));
  assert.ok(small > usual && usual > huge, `delays ${small}, ${usual}, ${huge}`);
  assert.equal(huge, 1 - 0.25, 'found at the end of its first window');
});
