import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeriesPoint } from '../detector.js';
import { gaussian, prng, sensorWindows } from '../synthetic.js';
import { noiseBesideRamp, rampVariance, spreadWithoutFarthest } from './window-envelope.js';
import { createWindowRules, WindowRulesConfig } from './window-rules.js';
import { ReadingScatter } from './window-rules-scatter.js';
import { Slab } from '../stats/slab.js';

/** Window indexes at which the rules alarm (score ≥ 0.5). */
function alarms(points: SeriesPoint[], config: object = {}): number[] {
  const d = createWindowRules(WindowRulesConfig.parse(config));
  const out: number[] = [];
  points.forEach((p, i) => {
    if (d.update(p).score >= 0.5) out.push(i);
  });
  return out;
}

const DAY = 288;

test('window rules: a clean daily cycle with noise is not an anomaly', () => {
  assert.deepEqual(
    alarms(sensorWindows({ seed: 1, windows: 3 * DAY, dailyAmplitude: 4, noise: 0.1, readingsPerWindow: 20 })),
    [],
  );
});

test('window rules: a one-reading spike and a one-reading dip are caught in their window', () => {
  const spike = sensorWindows({
    seed: 2,
    windows: DAY,
    dailyAmplitude: 4,
    noise: 0.1,
    readingsPerWindow: 20,
    fault: (w, r, x) => (w === 150 && r === 7 ? x + 3 : w === 200 && r === 3 ? x - 3 : x),
  });
  assert.deepEqual(alarms(spike), [150, 200]);
});

test('window rules: a dip in a window of five readings is caught, and so is the next one hours later', () => {
  // One reading in five, 75σ down: its window's spread is that reading's, and a level that learnt
  // it as noise would hide the next dip for hours.
  const points = sensorWindows({
    seed: 6,
    windows: DAY,
    dailyAmplitude: 2,
    noise: 0.08,
    readingsPerWindow: 5,
    fault: (w, r, x) => ((w === 150 || w === 190) && r === 0 ? x - 6 : x),
  });
  assert.deepEqual(alarms(points), [150, 190]);
});

/** A running machine's level: 60 readings a window of `noise()` around 4.2, for a week. */
function runningLevel(
  seed: number,
  noise: () => number,
  fault?: (w: number, r: number, x: number) => number,
): SeriesPoint[] {
  return sensorWindows({
    seed,
    windows: 7 * DAY,
    base: 4.2,
    noise: 0,
    readingsPerWindow: 60,
    fault: (w, r, x) => (fault ? fault(w, r, x + noise()) : x + noise()),
  });
}

test('window rules: at a level with Gaussian noise, one reading 6.5σ down among 60 is caught; a week without faults raises nothing', () => {
  for (const seed of [7, 8, 9]) {
    const g = gaussian(prng(seed * 31));
    assert.deepEqual(alarms(runningLevel(seed, () => 0.25 * g())), [], `seed ${seed}, no fault`);
    const h = gaussian(prng(seed * 31));
    const dipped = runningLevel(
      seed,
      () => 0.25 * h(),
      (w, r, x) => (w === 1500 && r === 30 ? 4.2 - 6.5 * 0.25 : x),
    );
    assert.deepEqual(alarms(dipped), [1500], `seed ${seed}`);
    // The envelope alone (the history's largest excursion and 8 robust σ beyond it) needs about 7.5σ.
    assert.deepEqual(alarms(dipped, { lightTailAlarmRate: 0 }), [], `seed ${seed}, envelope only`);
  }
});

test('window rules: a dip that is the first or last reading of its window is a dip, not the end of a ramp', () => {
  // A ramp inside a window is read from its ends; a dip at either end made it look like half a
  // ramp and forgave it half its depth (0 of 20 caught; the simulated fleet's vibration dips at a
  // window's edge went unseen). The other end's noise still lends a little ramp now and then.
  for (const r of [0, 59]) {
    let caught = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const g = gaussian(prng(seed * 31));
      const found = alarms(
        runningLevel(
          seed,
          () => 0.25 * g(),
          (w, k, x) => (w === 1500 && k === r ? 4.2 - 6.5 * 0.25 : x),
        ),
      );
      assert.ok(
        found.every((i) => i === 1500),
        `seed ${seed}, reading ${r}: false alarms ${JSON.stringify(found)}`,
      );
      if (found.includes(1500)) caught++;
    }
    assert.ok(caught >= 15, `reading ${r} of 60: ${caught} of 20 caught`);
  }
});

test('window rules: at a level with heavy-tailed noise, excursions are judged by the envelope alone', () => {
  // Student's t with 3 degrees of freedom, scaled to σ 0.25: a reading 5.5σ out is about one in
  // 500, so the Gaussian law would alarm several times a day; the tails fail its check.
  for (const seed of [10, 11, 12]) {
    const g = gaussian(prng(seed * 17));
    const t3 = (): number => g() / Math.sqrt((g() ** 2 + g() ** 2 + g() ** 2) / 3);
    const points = runningLevel(seed, () => (0.25 / Math.sqrt(3)) * t3());
    assert.deepEqual(alarms(points), alarms(points, { lightTailAlarmRate: 0 }), `seed ${seed}`);
  }
});

/** A thermometer read through an ADC that rounds to `step` (a DS18B20: 0.0625 °C), for a week. */
function quantised(
  seed: number,
  noise: number,
  step: number,
  readingsPerWindow: number,
  fault?: (w: number, r: number, x: number) => number,
): SeriesPoint[] {
  const round = (x: number): number => Math.round(x / step) * step;
  return sensorWindows({
    seed,
    windows: 7 * DAY,
    dailyAmplitude: 2,
    noise,
    readingsPerWindow,
    fault: (w, r, x) => round(fault ? fault(w, r, x) : x),
  });
}

test('window rules: a coarsely quantised thermometer is normal life, runs of identical windows included; its dips are caught', () => {
  // With steps a few times its noise, most windows hold one or two values, and whole runs of
  // identical windows come while the level stays inside a step (a cycle's peak or trough).
  for (const [noise, step, readings] of [
    [0.02, 0.0625, 5],
    [0.03, 0.0625, 5],
    [0.05, 0.0625, 5],
    [0.02, 0.0625, 20],
    [0.1, 0.1, 5],
    [0.03, 0.1, 5],
  ] as const) {
    for (const seed of [1, 2]) {
      const what = `σ ${noise}, step ${step}, ${readings} readings, seed ${seed}`;
      assert.deepEqual(alarms(quantised(seed, noise, step, readings)), [], what);
      assert.deepEqual(
        alarms(
          quantised(seed, noise, step, readings, (w, r, x) => ((w === 1500 || w === 1550) && r === 2 ? x - 1 : x)),
        ),
        [1500, 1550],
        `${what}, 1 °C dips`,
      );
    }
  }
});

test('window rules: a stuck quantised thermometer is caught once its run is longer than the level staying put explains', () => {
  for (const [noise, step, readings, within] of [
    [0.02, 0.0625, 5, 12],
    [0.05, 0.0625, 5, 8],
    [0.1, 0.1, 5, 4],
    [0.08, 0.01, 5, 1],
  ] as const) {
    for (const seed of [1, 2]) {
      let held: number | undefined;
      const points = quantised(seed, noise, step, readings, (w, _r, x) => (w >= 1500 && w < 1524 ? (held ??= x) : x));
      const found = alarms(points);
      assert.ok(
        found.length > 0 && found[0]! >= 1500 && found[0]! < 1500 + within,
        `σ ${noise}, step ${step}, seed ${seed}: first alarm at ${found[0]}`,
      );
      // The window after the run may alarm too: the reading comes back from where it was held.
      assert.ok(
        found.every((i) => i >= 1500 && i <= 1524),
        `σ ${noise}, step ${step}, seed ${seed}: alarms only while stuck, ${JSON.stringify(found)}`,
      );
    }
  }
});

test('window rules: a level shift is caught where it starts', () => {
  const shifted = sensorWindows({
    seed: 3,
    windows: DAY,
    dailyAmplitude: 4,
    noise: 0.1,
    readingsPerWindow: 20,
    fault: (w, _r, x) => (w >= 180 && w < 200 ? x + 2 : x),
  });
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
  assert.ok(
    a.every((i) => (i >= 100 && i < 103) || (i >= 200 && i < 210)),
    `nothing else: ${a}`,
  );
});

test('window rules: a machine switching on and off is its normal life once its levels are known', () => {
  // Off (0.1 ± 0.03) and running (4.5 ± 0.25), switching every 1–4 hours, mid-window included.
  const points = sensorWindows({
    seed: 5,
    windows: 3 * DAY,
    base: 0,
    noise: 0,
    readingsPerWindow: 60,
    fault: (w, r, x) => {
      const t = w + r / 60;
      const on = Math.floor(t / 31) % 3 !== 0;
      const n = Math.sin(w * 7.1 + r * 13.7) * 1.7;
      return x + (on ? 4.5 + 0.25 * n : 0.1 + 0.03 * n);
    },
  });
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
  const points = sensorWindows({
    seed: 7,
    windows: 400,
    dailyAmplitude: 3,
    noise: 0.1,
    fault: (w, r, x) => (w === 350 && r === 1 ? x + 5 : x),
  });
  const whole = createWindowRules(WindowRulesConfig.parse({}));
  const first = createWindowRules(WindowRulesConfig.parse({}));
  const a = points.map((p) => whole.update(p).score);
  const b = points.slice(0, 200).map((p) => first.update(p).score);
  const resumed = createWindowRules(WindowRulesConfig.parse({}), JSON.parse(JSON.stringify(first.snapshot())));
  b.push(...points.slice(200).map((p) => resumed.update(p).score));
  assert.deepEqual(b, a);
});

test('window rules: a steady ramp across a window of five readings is a trend, not a noise burst; a burst still is', () => {
  // A room filling with CO2 rises some 80 ppm a window (5 readings a minute apart) against noise of
  // 6 ppm. Five readings on a line spread 1.9 times as much as the continuous D²/12 says, which
  // read the rise as readings scattering 3.6 times as much as usual.
  const reasons = (slope: number, burst: number): string[] => {
    const g = gaussian(prng(7));
    const d = createWindowRules(WindowRulesConfig.parse({}));
    const out: string[] = [];
    let x = 420;
    for (let w = 0; w < 300; w++) {
      const late = w >= 290;
      const readings = [0, 1, 2, 3, 4].map(() => {
        if (late) x += slope;
        return Math.round(x + (late ? burst : 6) * g());
      });
      const v = d.update(windowOf(readings, (w + 1) * 300_000));
      if (late && v.score >= 0.5) out.push(v.reason);
    }
    return out;
  };
  assert.deepEqual(
    reasons(20, 6).filter((r) => /scatter/.test(r)),
    [],
  );
  assert.ok(reasons(0, 30).length > 0, 'a burst of five times the noise without a trend');
});

test('window rules: the variance a line adds to n readings is D²·n(n + 1)/(12(n − 1)²), and the noise beside it is solved from both', () => {
  for (const n of [2, 5, 60]) {
    const xs = Array.from({ length: n }, (_, k) => (10 * k) / (n - 1));
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const sample = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    assert.ok(Math.abs(rampVariance(10, n) - sample) < 1e-9, `n ${n}: ${rampVariance(10, n)} vs ${sample}`);
  }
  assert.equal(rampVariance(10, 1), 0);
  // A line of 10 over 5 readings with no noise: none; two readings tell nothing apart.
  assert.ok(noiseBesideRamp(Math.sqrt(rampVariance(10, 5)), 10, 5) < 1e-9);
  assert.equal(noiseBesideRamp(3, 10, 2), 3);
  // Noise σ on a line: its ends carry it too (endToEnd² = D² + 2σ² on average).
  const variance = rampVariance(10, 5) + 4;
  assert.ok(Math.abs(noiseBesideRamp(Math.sqrt(variance), Math.sqrt(100 + 2 * 4), 5) - 2) < 1e-9);
});

test('window rules: a step is judged against the largest step either way: a level comes down in steps as large as it went up in', () => {
  // Five readings a window, noise 6: a day at one level, then a staircase up in steps that grow
  // from 10 to 70 (each level held for an hour), then one step down of 60. Steps down were judged
  // against steps down only (a room's first evening after a weekend alarmed on each room); a step
  // down larger than any either way still is a fault.
  const reasons = (down: number): string[] => {
    const g = gaussian(prng(5));
    const d = createWindowRules(WindowRulesConfig.parse({}));
    const out: string[] = [];
    let level = 420;
    let w = 0;
    const play = (windows: number, judged: boolean): void => {
      for (let k = 0; k < windows; k++) {
        const readings = [0, 1, 2, 3, 4].map(() => Math.round(level + 6 * g()));
        const v = d.update(windowOf(readings, ++w * 300_000));
        if (judged && v.score >= 0.5) out.push(v.reason);
      }
    };
    play(288, false);
    for (let step = 10; step <= 70; step += 5) {
      level += step;
      play(12, false);
    }
    level -= down;
    play(12, true);
    return out;
  };
  assert.deepEqual(
    reasons(60).filter((r) => /dropped/.test(r)),
    [],
  );
  assert.ok(
    reasons(300).some((r) => /dropped by \d{3}/.test(r)),
    `a step down of 300: ${reasons(300).join('; ')}`,
  );
});

/** A window of the given readings (in time order) ending at `ts`, as the agent aggregates them. */
function windowOf(readings: number[], ts: number): SeriesPoint {
  const n = readings.length;
  const value = readings.reduce((a, b) => a + b, 0) / n;
  const stddev = Math.sqrt(readings.reduce((a, b) => a + (b - value) ** 2, 0) / (n - 1));
  const [min, max] = [Math.min(...readings), Math.max(...readings)];
  return { ts, value, min, max, stddev, count: n, first: readings[0]!, last: readings[n - 1]! };
}
test('window rules: a snapshot of before the sketches (the exact histories, as arrays) restores them, and judges on', () => {
  const points = sensorWindows({
    seed: 2,
    windows: DAY,
    dailyAmplitude: 4,
    noise: 0.1,
    readingsPerWindow: 20,
    fault: (w, r, x) => (w === 200 && r === 7 ? x + 3 : x),
  });
  const a = createWindowRules(WindowRulesConfig.parse({}));
  for (const p of points.slice(0, 150)) a.update(p);
  // What the exact histories held (excursions and steps in σ, spreads of 20 readings of noise 0.1):
  // each is replayed into its sketch, the newest `history` values.
  const spreadOut = (i: number): number => ((i * 7919) % 100) / 100; // 0 … 0.99, shuffled
  const held = (from: number, width: number): number[] =>
    Array.from({ length: 400 }, (_, i) => from + width * spreadOut(i));
  const old = {
    ...(JSON.parse(JSON.stringify(a.snapshot())) as object),
    rise: held(1.2, 1.8),
    drop: held(1.2, 1.8),
    step: held(-3, 6),
    spread: held(0.08, 0.04),
  };
  const b = createWindowRules(WindowRulesConfig.parse({}), old);
  const restored = b.snapshot() as unknown as Record<'rise' | 'drop' | 'step' | 'spread', { n: number }>;
  // 25 hours of 5-minute windows: the newest 300 of the 400.
  assert.deepEqual([restored.rise.n, restored.drop.n, restored.step.n, restored.spread.n], [300, 300, 300, 300]);
  const found = points.slice(150).flatMap((p, i) => (b.update(p).score >= 0.5 ? [150 + i] : []));
  assert.deepEqual(found, [200]);
});

test('window rules: one far reading of a heavy-tailed sensor is no noise burst; readings that all scatter still are', () => {
  // Six readings a minute of Student-t noise (3 degrees of freedom): one reading in a few hundred
  // lies 6σ out and alone triples its window's spread, which read as a noise burst 4 times a day.
  const g = gaussian(prng(11));
  const t3 = () => g() / Math.sqrt((g() ** 2 + g() ** 2 + g() ** 2) / 3);
  const d = createWindowRules(WindowRulesConfig.parse({}), undefined, { windowMs: 60_000 });
  const bursts: number[] = [];
  for (let w = 0; w < 2 * 1_440 + 3; w++) {
    const late = w >= 2 * 1_440;
    const readings = Array.from({ length: 6 }, () => 20 + (late ? 3 * g() : 0.3 * t3()));
    const v = d.update(windowOf(readings, (w + 1) * 60_000));
    if (v.score >= 0.5 && /scatter/.test(v.reason)) bursts.push(w);
  }
  assert.deepEqual(
    bursts.filter((w) => w < 2 * 1_440),
    [],
    'no burst in two days of healthy heavy-tailed noise',
  );
  assert.ok(bursts.includes(2 * 1_440), `a burst of readings all scattering ten times as much: ${bursts}`);
});

test('window rules: the spread without the farthest reading, from a window’s aggregates, is that of the other readings', () => {
  for (const readings of [
    [1, 2, 3, 10],
    [5, -4, 0.5, 0.25, 1, 1.5],
    [3, 3, 3, 3, 3],
  ]) {
    const w = windowOf(readings, 0);
    const far = w.max - w.value >= w.value - w.min ? w.max : w.min;
    const rest = readings.filter((_, i) => i !== readings.indexOf(far));
    const direct = windowOf(rest, 0).stddev;
    const got = spreadWithoutFarthest(w.stddev, w.value, w.min, w.max, readings.length);
    assert.ok(Math.abs(got - direct) < 1e-9, `${readings}: ${got} vs ${direct}`);
  }
});

test('window rules: a window without a value breaks the thread of readings: the next neither repeats nor steps from the one before it', () => {
  const points = sensorWindows({ seed: 4, windows: 200, windowMs: 60_000, readingsPerWindow: 1, noise: 0.2 });
  const d = createWindowRules(WindowRulesConfig.parse({}));
  for (const p of points.slice(0, 150)) d.update(p);
  type Snap = { identical: { run: number }; scatter: { steps: string }; prevLast: number | null };
  const before = JSON.parse(JSON.stringify(d.snapshot())) as Snap;
  const last = points[149]!;
  // Every reading of the next minute out of range; then the reading the sensor gave two minutes ago.
  d.heard?.(last.ts + 60_000);
  d.update({ ...last, ts: last.ts + 120_000 });
  const after = JSON.parse(JSON.stringify(d.snapshot())) as Snap;
  assert.equal(after.identical.run, 0, 'a repeat across the silent window');
  assert.equal(after.scatter.steps, before.scatter.steps, 'a step measured across the silent window');
});

/** A running machine's vibration in the agent's minute windows: 12 readings (5-s cadence) of σ 0.25 around 4.2, two days. */
function twelveReadings(
  seed: number,
  fault: (w: number, r: number, x: number) => number = (_w, _r, x) => x,
): SeriesPoint[] {
  return sensorWindows({ seed, windows: 2 * DAY, base: 4.2, noise: 0.25, readingsPerWindow: 12, fault });
}

test('window rules: a dip that is the last reading of twelve is no ramp because the first lies 2.5σ above the mean; a ramp is', () => {
  // The first reading 2σ above the level (2.5σ above the mean the dip pulls down) lent the dip
  // half a ramp of its own making, 2.5σ of its 6σ: 0 of 20 caught.
  let caught = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const dipped = twelveReadings(seed, (w, r, x) =>
      w === 500 && r === 0 ? 4.2 + 2 * 0.25 : w === 500 && r === 11 ? 4.2 - 6 * 0.25 : x,
    );
    if (alarms(dipped).includes(500)) caught++;
    // A ramp of 8σ through the window (its ends 4σ each side of the mean): its low end is the ramp's.
    const ramp = twelveReadings(seed, (w, r, x) => (w === 500 ? x + 0.25 * (4 - (8 * r) / 11) : x));
    assert.deepEqual(
      alarms(ramp).filter((i) => i === 500),
      [],
      `seed ${seed}: the ramp`,
    );
  }
  assert.ok(caught >= 15, `${caught} of 20 caught`);
});

test('window rules: a healthy thermometer meeting new levels on its daily cycle gets no alarm from the Gaussian law', () => {
  // A level is born with its first window's spread (a thermometer of noise 0.08 met levels at
  // 0.035) and the law read readings 2.4σ off their mean as 5σ: 9 alarms in these 100 weeks; it now
  // judges against no less than the series' usual spread.
  const law: string[] = [];
  for (const [noise, step, readings] of [
    [0.08, 0.01, 5],
    [0.08, 0, 5],
    [0.08, 0.01, 6],
    [0.1, 0, 6],
    [0.08, 0, 12],
  ] as const) {
    for (let seed = 1; seed <= 20; seed++) {
      const round = (x: number): number => (step > 0 ? Math.round(x / step) * step : x);
      const points = sensorWindows({
        seed,
        windows: 7 * DAY,
        dailyAmplitude: noise === 0.1 ? 3 : 2,
        noise,
        readingsPerWindow: readings,
        fault: (_w, _r, x) => round(x),
      });
      const d = createWindowRules(WindowRulesConfig.parse({}));
      points.forEach((p, i) => {
        const v = d.update(p);
        if (v.score >= 0.5 && /σ of the level's noise/.test(v.reason))
          law.push(`σ ${noise} step ${step} ×${readings} seed ${seed} window ${i}`);
      });
    }
  }
  assert.deepEqual(law, []);
});

test('window rules: a series of many readings a window holds no scatter of steps until its first window of few, and judges as one that held a fresh one from the start', () => {
  const many = sensorWindows({ seed: 8, windows: 400, windowMs: 60_000, readingsPerWindow: 12, noise: 0.2 });
  const few = sensorWindows({ seed: 9, windows: 200, windowMs: 60_000, readingsPerWindow: 2, noise: 0.2 });
  // The few-readings windows carry on in time from the many-readings ones.
  const points = [...many, ...few.map((p) => ({ ...p, ts: p.ts + 400 * 60_000 }))];
  const config = WindowRulesConfig.parse({});
  const context = { windowMs: 60_000 };
  const lazy = createWindowRules(config, undefined, context);
  for (const p of points.slice(0, 400)) lazy.update(p);
  const snapshot = JSON.parse(JSON.stringify(lazy.snapshot())) as { scatter?: unknown };
  assert.equal(snapshot.scatter, undefined);
  // A snapshot of older code held a fresh scatter in every series: restored, it continues as the lazy one does.
  const fresh = new ReadingScatter(10, 3, 1_500, 100, undefined, new Slab()).snapshot();
  const older = createWindowRules(config, JSON.parse(JSON.stringify({ ...snapshot, scatter: fresh })), context);
  for (const p of points.slice(400)) assert.deepEqual(lazy.update(p), older.update(p));
  assert.deepEqual(lazy.snapshot(), older.snapshot());
});
