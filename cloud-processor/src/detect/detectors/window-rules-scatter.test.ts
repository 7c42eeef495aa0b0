import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesPoint } from '../detector.js';
import { gaussian, prng, sensorWindows } from '../synthetic.js';
import { createWindowRules, WindowRulesConfig } from './window-rules.js';
import { log10BinomialTail } from './window-rules-scatter.js';

// Series of few readings a window at the agent's 60-s windows: an environment sensor's one, a
// machine temperature's two. No window has a spread worth judging; their noise is judged across
// windows (window-rules-scatter.ts).

const MINUTE_WINDOWS = { windowMs: 60_000 };
const DAY = 1_440;

/** Windows (index) at which the rules alarm, and their reasons. */
function alarms(points: SeriesPoint[]): { at: number[]; reasons: string[] } {
  const d = createWindowRules(WindowRulesConfig.parse({}), undefined, MINUTE_WINDOWS);
  const at: number[] = [];
  const reasons: string[] = [];
  points.forEach((p, i) => {
    const v = d.update(p);
    if (v.score >= 0.5) {
      at.push(i);
      reasons.push(v.reason ?? '');
    }
  });
  return { at, reasons };
}

/** A week of minute windows of `readings` readings: a daily cycle, weather, and `noise` (of σ 1 in units of `sigma`). */
function week(
  seed: number,
  readings: number,
  sigma: number,
  noise: () => number,
  fault?: (w: number, r: number, x: number) => number,
): SeriesPoint[] {
  return sensorWindows({
    seed,
    windows: 7 * DAY,
    windowMs: 60_000,
    readingsPerWindow: readings,
    base: 40,
    dailyAmplitude: 3,
    weather: { std: 2 * sigma, tauMs: 3_600_000 },
    noise: 0,
    fault: (w, r, x) => {
      const y = x + sigma * noise();
      return fault ? fault(w, r, y) : y;
    },
  });
}

/** Student-t with 3 degrees of freedom, scaled to unit variance: heavy tails. */
function studentT3(seed: number): () => number {
  const z = gaussian(prng(seed));
  return () => {
    const chi2 = z() ** 2 + z() ** 2 + z() ** 2;
    return z() / Math.sqrt(chi2 / 3) / Math.sqrt(3);
  };
}

test('window rules, few readings: a machine temperature at two readings a minute with a 30× noise burst is alerted during the burst', () => {
  // Noise 0.08 °C; a loose connector adds 2.4 °C of noise for 20 minutes on day 3.
  const start = 3 * DAY + 600;
  const burst = gaussian(prng(77));
  const points = week(11, 2, 0.08, gaussian(prng(12)), (w, _r, x) =>
    w >= start && w < start + 20 ? x + 2.4 * burst() : x,
  );
  const { at, reasons } = alarms(points);
  assert.ok(at.length > 0, 'the burst is alerted');
  assert.ok(
    at.every((w) => w >= start && w < start + 20 + 10),
    `alarms only in the burst (and the 10-minute span after it): ${at.join(', ')}`,
  );
  assert.ok(at[0]! < start + 10, `within 10 minutes of its start: ${at[0]! - start}`);
  assert.match(reasons[0]!, /scatter/);
});

test('window rules, few readings: a CO2 sensor at one reading a minute with a 10× noise burst at night is alerted', () => {
  // Noise 6 ppm at a night level near 420; 60 ppm of extra noise for 12 minutes at 03:00.
  const start = 4 * DAY + 180;
  const burst = gaussian(prng(5));
  const points = week(21, 1, 6, gaussian(prng(22)), (w, _r, x) =>
    w >= start && w < start + 12 ? x + 60 * burst() : x,
  ).map((p) => ({
    ...p,
    value: p.value + 380,
    min: p.min + 380,
    max: p.max + 380,
    first: p.first! + 380,
    last: p.last! + 380,
  }));
  const { at } = alarms(points);
  assert.ok(at.length > 0 && at[0]! >= start && at[0]! < start + 14, `alarms: ${at.join(', ')}`);
});

test('window rules, few readings: healthy series of one and two readings a minute raise no alarm over a week, Gaussian or heavy-tailed', () => {
  for (const readings of [1, 2]) {
    for (const [name, noise] of [
      ['Gaussian', gaussian(prng(31 + readings))],
      ['Student-t(3)', studentT3(41 + readings)],
    ] as const) {
      const { at, reasons } = alarms(week(51 + readings, readings, 0.1, noise));
      assert.deepEqual(at, [], `${readings} reading(s) a window, ${name} noise: ${reasons.slice(0, 3).join('; ')}`);
    }
  }
});

test('window rules, few readings: a room filling and emptying with its ventilation, and a level shift, are no noise burst', () => {
  // CO2 at one reading a minute, noise 6 ppm: 800 ppm of occupancy from 08:00 to 17:00 each day,
  // built up and let out with ventilation's 45-minute time constant (18 ppm a minute at the turns),
  // and a shift of 200 ppm that stays.
  const tau = 45;
  const occupancy = (w: number): number => {
    const m = w % DAY;
    const full = 1 - Math.exp(-(17 * 60 - 8 * 60) / tau);
    if (m < 8 * 60) return 0;
    return m <= 17 * 60 ? 1 - Math.exp(-(m - 8 * 60) / tau) : full * Math.exp(-(m - 17 * 60) / tau);
  };
  const shift = 5 * DAY + 300;
  const points = week(61, 1, 6, gaussian(prng(62)), (w, _r, x) => x + 800 * occupancy(w) + (w >= shift ? 200 : 0));
  const { reasons } = alarms(points);
  assert.deepEqual(
    reasons.filter((r) => /scatter/.test(r)),
    [],
  );
});

test('window rules, few readings: a snapshot taken during a noise burst continues exactly', () => {
  const start = 2 * DAY + 300;
  const burst = gaussian(prng(9));
  const points = week(71, 2, 0.08, gaussian(prng(72)), (w, _r, x) =>
    w >= start && w < start + 30 ? x + 2 * burst() : x,
  ).slice(0, 3 * DAY);
  const config = WindowRulesConfig.parse({});
  const whole = createWindowRules(config, undefined, MINUTE_WINDOWS);
  const first = createWindowRules(config, undefined, MINUTE_WINDOWS);
  const a = points.map((p) => whole.update(p).score);
  const cut = start + 5;
  const b = points.slice(0, cut).map((p) => first.update(p).score);
  const resumed = createWindowRules(config, JSON.parse(JSON.stringify(first.snapshot())), MINUTE_WINDOWS);
  b.push(...points.slice(cut).map((p) => resumed.update(p).score));
  assert.deepEqual(b, a);
  assert.ok(
    a.slice(start, start + 40).some((s) => s >= 0.5),
    'the burst is alerted',
  );
});

test('window rules, few readings: a healthy sensor that rounds coarsely (a DHT11: steps 3-5σ of its noise) raises no burst alarm over 10 days', () => {
  // Its readings mostly repeat: the usual distance of a step from the trend shrinks toward zero, and
  // on the daily ramp each step of one quantum read as large (44 false bursts in 54 series-days).
  for (const readings of [1, 2]) {
    for (const [quantum, sigma] of [
      [1, 0.2],
      [1, 0.3],
      [0.1, 0.025],
    ] as const) {
      for (const seed of [1, 2, 3]) {
        const points = sensorWindows({
          seed: 100 * readings + seed,
          windows: 10 * DAY,
          windowMs: 60_000,
          readingsPerWindow: readings,
          base: 21,
          dailyAmplitude: 2,
          noise: sigma,
          weather: { std: 2 * sigma, tauMs: 3_600_000 },
          fault: (_w, _r, x) => Math.round(x / quantum) * quantum,
        });
        const { at, reasons } = alarms(points);
        const bursts = at.filter((w, i) => w >= DAY && /scatter/.test(reasons[i]!));
        assert.deepEqual(bursts, [], `quantum ${quantum}, σ ${sigma}, ${readings} reading(s) a window, seed ${seed}`);
      }
    }
  }
});

test('window rules, few readings: a coarsely rounding sensor (1 °C, σ 0.2 °C) with a loose connector is alerted', () => {
  const start = 4 * DAY + 600;
  const burst = gaussian(prng(13));
  const points = sensorWindows({
    seed: 7,
    windows: 5 * DAY,
    windowMs: 60_000,
    readingsPerWindow: 1,
    base: 21,
    dailyAmplitude: 2,
    noise: 0.2,
    weather: { std: 0.4, tauMs: 3_600_000 },
    fault: (w, _r, x) => Math.round(w >= start && w < start + 20 ? x + 4 * burst() : x),
  });
  const { at, reasons } = alarms(points);
  const found = at.filter((w, i) => w >= start && w < start + 30 && /scatter/.test(reasons[i]!));
  assert.ok(found.length > 0 && found[0]! < start + 10, `alarms: ${at.join(', ')}`);
});

test('window rules, few readings: at 10-s windows of three readings a noise burst is alerted and every score is finite', () => {
  // A span of 10 minutes holds 180 steps: the chance of a burst's many large ones lies below the
  // smallest double (its log10 was -Infinity, the score NaN).
  const windowMs = 10_000;
  const day = 8_640;
  const start = 3 * day + 600;
  // Noise of ±0.08 (uniform: a sensor's rounding error), a burst of ±4 for an hour.
  const uniform = prng(77);
  const points = sensorWindows({
    seed: 11,
    windows: 4 * day,
    windowMs,
    readingsPerWindow: 3,
    base: 40,
    dailyAmplitude: 3,
    noise: 0,
    weather: { std: 0.16, tauMs: 3_600_000 },
    fault: (w, _r, x) => {
      const y = x + 0.08 * (2 * uniform() - 1);
      return w >= start && w < start + 360 ? y + 4 * (2 * uniform() - 1) : y;
    },
  });
  const d = createWindowRules(WindowRulesConfig.parse({}), undefined, { windowMs });
  const alarmed: number[] = [];
  points.forEach((p, i) => {
    const v = d.update(p);
    assert.ok(Number.isFinite(v.score) && Number.isFinite(v.surprise ?? 0), `window ${i}: score ${v.score}`);
    if (v.score >= 0.5 && /scatter/.test(v.reason ?? '')) alarmed.push(i);
  });
  assert.ok(
    alarmed.length > 0 && alarmed[0]! >= start && alarmed[0]! < start + 60,
    `alarms: ${alarmed.slice(0, 5).join(', ')}`,
  );
});

test('window rules, few readings: the binomial tail in logarithms matches the direct sum, and goes on below the smallest double', () => {
  const choose = (n: number, k: number): number => {
    let c = 1;
    for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
    return c;
  };
  for (const [n, m, p] of [
    [10, 3, 0.05],
    [30, 1, 0.2],
    [30, 12, 0.01],
    [20, 20, 0.5],
  ] as const) {
    let direct = 0;
    for (let j = m; j <= n; j++) direct += choose(n, j) * p ** j * (1 - p) ** (n - j);
    assert.ok(Math.abs(log10BinomialTail(n, m, p) - Math.log10(direct)) < 1e-9, `n ${n}, m ${m}, p ${p}`);
  }
  assert.equal(log10BinomialTail(10, 0, 0.1), 0);
  // 150 of 180 at 1e-3: C(180, 150) ≈ 10^34.1 ways, each 10^-450 (the later terms 1000 times smaller each).
  const deep = log10BinomialTail(180, 150, 1e-3);
  assert.ok(Math.abs(deep - (34.1 - 450)) < 0.1, `${deep}`);
});

test('window rules, few readings: with stuckMinReadings 6, windows of four readings judge the steps of the last burstSpanMs, not four times as many', () => {
  // A window of four readings holds one step (the step across: its middle readings are not known),
  // where one step was held and three counted: the span reached 40 windows back, and older steps
  // were learnt again.
  const start = 3 * DAY + 600;
  const burst = gaussian(prng(17));
  const points = week(81, 4, 0.08, gaussian(prng(82)), (w, _r, x) =>
    w >= start && w < start + 20 ? x + 2.4 * burst() : x,
  );
  const d = createWindowRules(WindowRulesConfig.parse({ stuckMinReadings: 6 }), undefined, MINUTE_WINDOWS);
  const scatter: string[] = [];
  const after: number[] = [];
  points.forEach((p, i) => {
    const v = d.update(p);
    if (v.score < 0.5) return;
    if (/steps between readings/.test(v.reason ?? '')) scatter.push(v.reason!);
    if (i >= start + 20 + 10) after.push(i);
  });
  assert.ok(scatter.length > 0, 'the burst is alerted from the steps');
  assert.ok(
    scatter.every((r) => /of the last 10 steps/.test(r)),
    scatter[0],
  );
  assert.deepEqual(after, [], 'no alarm beyond the span after the burst');
});
