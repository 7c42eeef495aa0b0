/**
 * Fast sensors through the processor's detection and alert lifecycle (the live path): a coarsely
 * quantised flow meter read once a second, whose fault persists; and a machine's several metrics
 * judged together.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { AlertLifecycle } from '../alerts/lifecycle.js';
import { detectorPlans } from './registry.js';
import { gaussian, prng } from './synthetic.js';
import { Detection, MACHINE, type SeriesInput } from './detection.js';

const T0 = Date.UTC(2026, 2, 9, 10);
const S = 1000;
const MIN = 60 * S;

/**
 * One row a second of a pump: flow in whole l/min (10 ± 0.5 before rounding), pressure and current
 * with noise; `alone`: a flow meter on its own (a device of one metric).
 */
function pump(seconds: number, flowAt: (t: number) => number, seed = 1, alone = false): SeriesInput[][] {
  const g = gaussian(prng(seed));
  const rows: SeriesInput[][] = [];
  for (let i = 0; i < seconds; i++) {
    const ts = T0 + i * S;
    const values = { flow: Math.round(flowAt(i) + 0.5 * g()), pressure: 2 + 0.05 * g(), current: 1.3 + 0.1 * g() };
    const row = Object.entries(values).map(([metric, value]) => ({
      device: alone ? 'meter-1' : 'pump-1',
      metric,
      ts,
      lengthMs: 0,
      value,
      min: value,
      max: value,
      stddev: 0,
      count: 1,
    }));
    rows.push(alone ? row.slice(0, 1) : row);
  }
  return rows;
}

/** Plays the rows one by one; returns the transitions and, per second, whether an alert on `metric` (or the machine's) was open. */
function play(
  rows: SeriesInput[][],
  metric: string,
): { alerts: AlertEvent[]; open: boolean[]; machineOpen: boolean[] } {
  const config = ProcessorConfigSchema.parse({});
  const detection = new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), 100);
  const alerts: AlertEvent[] = [];
  const open: boolean[] = [];
  const machineOpen: boolean[] = [];
  let series = 0;
  let machine = 0;
  for (const row of rows) {
    for (const a of detection.ingest('gw', row)) {
      alerts.push(a);
      const step = a.state === 'opened' ? 1 : a.state === 'resolved' ? -1 : 0;
      if (a.detector === MACHINE) machine += step;
      else if (a.metric === metric) series += step;
    }
    open.push(series > 0);
    machineOpen.push(machine > 0);
  }
  return { alerts, open, machineOpen };
}

/** The fault, after 25 minutes of normal operation (the first ten are the detectors' to learn from). */
const FAULT = [25 * MIN, 30 * MIN].map((t) => t / S) as [number, number];
const LEARNT = (10 * MIN) / S;
const dropped = (from: number, to: number) => (i: number) => (i >= from && i < to ? 7 : 10);
const share = (xs: boolean[], from: number, to: number): number =>
  xs.slice(from, to).filter(Boolean).length / (to - from);

test('a 30 % drop of a flow meter in whole l/min is alerted within a minute, held while it lasts, resolved within a minute of its return', () => {
  for (const seed of [1, 2, 3, 4]) {
    const { open } = play(pump(40 * 60, dropped(...FAULT), seed, true), 'flow');
    const [from, to] = FAULT;
    assert.equal(
      share(open, LEARNT, from),
      0,
      `seed ${seed}: nothing open before the drop (after the first 10 minutes)`,
    );
    const opened = open.indexOf(true, from);
    assert.ok(opened >= from && opened < from + 60, `seed ${seed}: opened ${opened - from} s after the drop`);
    assert.ok(
      share(open, from + 60, to) > 0.95,
      `seed ${seed}: open for ${(100 * share(open, from + 60, to)).toFixed(0)} % of the fault after its first minute`,
    );
    const resolved = open.indexOf(false, to);
    assert.ok(resolved >= to && resolved < to + 60, `seed ${seed}: resolved ${resolved - to} s after the return`);
    assert.equal(share(open, to + 60, open.length), 0, `seed ${seed}: nothing open after`);
  }
});

test('a level that never returns is accepted after acceptAfterMs (10 min): the alert resolves and does not open again for it', () => {
  const from = FAULT[0];
  const { open, alerts } = play(
    pump(50 * 60, (i) => (i >= from ? 7 : 10), 4, true),
    'flow',
  );
  const opened = open.indexOf(true, from);
  const resolved = open.indexOf(false, opened);
  assert.ok(opened >= from && opened < from + 60);
  assert.ok(Math.abs(resolved - opened - 600) <= 60, `resolved ${resolved - opened} s after it opened`);
  assert.equal(share(open, resolved, open.length), 0);
  assert.equal(alerts.filter((a) => a.state === 'opened' && a.metric === 'flow' && a.detector !== MACHINE).length, 1);
});

test("the machine's alert opens on the drop, is filed under the metric that moved most and names it, and holds while the fault lasts", () => {
  for (const seed of [5, 6, 7]) {
    const { alerts, machineOpen, open } = play(pump(40 * 60, dropped(...FAULT), seed), 'flow');
    const [from, to] = FAULT;
    const machine = alerts.filter((a) => a.detector === MACHINE);
    assert.deepEqual(
      machine.filter((a) => a.state !== 'updated').map((a) => [a.state, a.metric]),
      [
        ['opened', 'flow'],
        ['resolved', 'flow'],
      ],
      `seed ${seed}`,
    );
    assert.match(machine[0]!.message, /flow down \(\d+ %\)/);
    assert.ok(
      machine[0]!.at >= T0 + from * S && machine[0]!.at < T0 + (from + 60) * S,
      `seed ${seed}: opened ${(machine[0]!.at - T0) / S - from} s after the drop`,
    );
    assert.ok(share(machineOpen, from + 60, to) > 0.95, `seed ${seed}`);
    assert.ok(
      machine[1]!.at < T0 + (to + 60) * S,
      `seed ${seed}: resolved ${(machine[1]!.at - T0) / S - to} s after the return`,
    );
    // One decision per machine: the flow series' own detector leaves the level shift to the machine.
    assert.equal(share(open, LEARNT, open.length), 0, `seed ${seed}: the flow series' own alert opened`);
  }
});

test('a checkpoint taken in the middle of a fault (alerts open, baselines frozen, fast rows half-way through a window) resumes as if uninterrupted', () => {
  const rows = pump(40 * 60, dropped(...FAULT), 6);
  const config = ProcessorConfigSchema.parse({});
  const make = (): Detection => new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), 100);
  const brief = (a: AlertEvent): string => `${a.state} ${a.metric} ${a.detector} ${a.at} ${a.message}`;
  const straight = make();
  const all = rows.flatMap((row) => straight.ingest('gw', row)).map(brief);
  const split = FAULT[0] + 150 + 0.5;
  const first = make();
  const before = rows
    .slice(0, Math.floor(split))
    .flatMap((row) => first.ingest('gw', row))
    .map(brief);
  const parts = JSON.parse(JSON.stringify([...first.snapshotParts()])) as unknown[];
  const resumed = make();
  assert.equal(resumed.restoreParts(parts), true);
  const after = rows
    .slice(Math.floor(split))
    .flatMap((row) => resumed.ingest('gw', row))
    .map(brief);
  assert.ok(
    before.some((a) => a.startsWith('opened flow machine')),
    'the machine alert was open at the checkpoint',
  );
  assert.deepEqual([...before, ...after], all);
});

test("a device's metric leaving its level is one alert, the machine's: the series' own level members leave it to the machine", () => {
  // An office's environment sensor in 5-minute windows (5 readings each): two quiet days, then the
  // room fills with CO2 (to +600 ppm with ventilation's 45-minute time constant) for the first time.
  const W = 5 * MIN;
  const g = gaussian(prng(9));
  const fillAt = 2 * 24 * 60 + 90; // minutes
  const config = ProcessorConfigSchema.parse({});
  const detection = new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), 100);
  const opened: AlertEvent[] = [];
  for (let w = 0; w < (fillAt + 4 * 60) / 5; w++) {
    const ts = T0 + (w + 1) * W;
    const minutes = w * 5;
    const fill = (m: number) => (m >= fillAt ? 600 * (1 - Math.exp(-(m - fillAt) / 45)) : 0);
    const batch = (['co2', 'temperature'] as const).map((metric): SeriesInput => {
      const readings = [0, 1, 2, 3, 4].map((k) =>
        metric === 'co2' ? Math.round(420 + fill(minutes + k) + 6 * g()) : 21 + 0.1 * g(),
      );
      const mean = readings.reduce((a, b) => a + b, 0) / readings.length;
      const stddev = Math.sqrt(readings.reduce((a, b) => a + (b - mean) ** 2, 0) / (readings.length - 1));
      return {
        device: 'env-1',
        metric,
        ts,
        lengthMs: W,
        value: mean,
        min: Math.min(...readings),
        max: Math.max(...readings),
        stddev,
        count: readings.length,
        first: readings[0]!,
        last: readings[4]!,
      };
    });
    for (const a of detection.ingest('gw', batch)) if (a.state === 'opened') opened.push(a);
  }
  const atFill = opened.filter((a) => a.at >= T0 + fillAt * MIN);
  assert.deepEqual(
    atFill.map((a) => [a.metric, a.detector]),
    [['co2', MACHINE]],
    atFill.map((a) => a.message).join('\n'),
  );
});
