import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { sensorKinds } from './kinds.js';
import { MachineSchedule } from './machine.js';
import { occupancy, quantise, Signal } from './signal.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = Date.UTC(2025, 2, 3); // Monday

for (const kind of Object.values(sensorKinds)) {
  test(`${kind.metric}: a simulated week stays in range, varies by more than the ADC step, and anomaly sizes fit`, () => {
    assert.ok(
      kind.noise >= 3 * kind.quantum && (kind.driver?.idleNoise ?? kind.noise) >= 3 * kind.quantum,
      'noise ≥ 3 quanta, so identical runs are rare',
    );
    assert.ok(
      kind.glitches.every((g) => g < kind.range.min || g > kind.range.max),
      'glitches leave the range',
    );
    const rng = new Rng(kind.metric);
    const period = 60_000;
    const machine = MachineSchedule.draw(rng.fork('m'), START, START + 7 * DAY, 4 * HOUR, HOUR);
    const signal = new Signal(kind, rng.fork('p'), rng.fork('w'), rng.fork('n'), START, period, machine);
    let min = Infinity;
    let max = -Infinity;
    let repeats = 0;
    let previous = NaN;
    for (let ts = START; ts < START + 7 * DAY; ts += period) {
      const v = quantise(signal.sample(ts), kind.quantum);
      min = Math.min(min, v);
      max = Math.max(max, v);
      if (v === previous) repeats++;
      previous = v;
    }
    assert.ok(
      min >= kind.range.min && max + kind.spike * 1.5 <= kind.range.max,
      `[${min}, ${max}] + spike inside [${kind.range.min}, ${kind.range.max}]`,
    );
    assert.ok(repeats < 0.25 * ((7 * DAY) / period), `${repeats} repeated values`);
  });
}

test('temperature follows a daily cycle: afternoons are warmer than nights', () => {
  const signal = new Signal(sensorKinds.temperature, new Rng(1), new Rng(2), new Rng(3), START, 60_000, undefined);
  let afternoon = 0;
  let night = 0;
  for (let d = 0; d < 7; d++) {
    afternoon += signal.level(START + d * DAY + 15 * HOUR);
    night += signal.level(START + d * DAY + 3 * HOUR);
  }
  assert.ok(afternoon / 7 - night / 7 > 3, `${afternoon / 7} vs ${night / 7}`);
});

test('a machine alternates on and off; runsThroughout agrees with isOnAt', () => {
  const m = MachineSchedule.draw(new Rng('m'), START, START + 7 * DAY, 2 * HOUR, HOUR);
  let flips = 0;
  let on = m.isOnAt(START);
  let onMinutes = 0;
  for (let ts = START; ts < START + 7 * DAY; ts += 60_000) {
    const now = m.isOnAt(ts);
    if (now !== on) flips++;
    on = now;
    if (now) onMinutes++;
    if (ts % (97 * 60_000) === 0) assert.equal(m.runsThroughout(ts, ts), now);
  }
  assert.ok(flips > 20, `${flips} flips`);
  assert.ok(onMinutes / (7 * 24 * 60) > 0.5 && onMinutes / (7 * 24 * 60) < 0.85, 'on about 2/3 of the time');
  assert.equal(MachineSchedule.alwaysOn().runsThroughout(0, 1e15), true);
});

test('CO2 occupancy: none at night and at weekends, near full in the afternoon of a weekday', () => {
  const hours = [8, 18] as const;
  assert.equal(occupancy(START + 3 * HOUR, hours), 0);
  assert.ok(occupancy(START + 16 * HOUR, hours) > 0.95);
  assert.ok(occupancy(START + 19 * HOUR, hours) < 0.5);
  assert.equal(occupancy(START + 5 * DAY + 16 * HOUR, hours), 0, 'Saturday');
});

const quantiseCases = [
  { value: 21.349999, quantum: 0.01, want: 21.35 },
  { value: 44.44, quantum: 0.1, want: 44.4 },
  { value: 415.6, quantum: 1, want: 416 },
];
for (const c of quantiseCases)
  test(`quantise(${c.value}, ${c.quantum}) = ${c.want}`, () => assert.equal(quantise(c.value, c.quantum), c.want));
