import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasReadings, type WindowResult } from '@tributary/firmware-schemas';
import { WindowEngine, type AddOutcome, type WindowEngineOptions } from './window-engine.js';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
const base: WindowEngineOptions = {
  lengthMs: 60_000,
  slideMs: 60_000,
  allowedLatenessMs: 5_000,
  idleAfterMs: 3_600_000,
  maxSeries: 100,
  onSeriesLimit: 'reject-new',
  lateReadings: 'drop',
  lateHorizonMs: 600_000,
  maxPanesPerSeries: 64,
  sketchK: 16,
};

/** The agent clock, unless an input says otherwise: after every timestamp, so none is capped by it. */
const LATER = 3_600_000;

/** [device, ts offset from T0, value, agent clock offset from T0 (LATER if omitted)]; the metric is always `t`. */
type Input = readonly [string, number, number, number?];

function run(options: Partial<WindowEngineOptions>, inputs: readonly Input[], flush = true) {
  const windows: WindowResult[] = [];
  const events = { evicted: 0, outOfRangeOnly: 0 };
  const engine = new WindowEngine(
    { ...base, ...options },
    { window: (w) => windows.push(w), evicted: () => events.evicted++, outOfRangeOnly: () => events.outOfRangeOnly++ },
  );
  const outcomes: AddOutcome[] = inputs.map(([d, dt, v, now]) => engine.add(d, 't', T0 + dt, v, T0 + (now ?? LATER)));
  if (flush) engine.flush();
  const brief = windows.map(
    (w) =>
      `${w.device} ${(w.start - T0) / 1000}-${(w.end - T0) / 1000} n${w.count} sum${hasReadings(w) ? w.sum : '-'} r${w.rev}`,
  );
  return { windows, outcomes, brief, events, engine };
}

const cases: {
  name: string;
  options?: Partial<WindowEngineOptions>;
  inputs: Input[];
  outcomes?: AddOutcome[];
  brief: string[];
  flush?: boolean;
}[] = [
  {
    name: 'tumbling: the watermark closes a window, flush emits the open one',
    inputs: [
      ['a', 1_000, 1],
      ['a', 59_000, 2],
      ['a', 66_000, 4],
    ],
    brief: ['a 0-60 n2 sum3 r0', 'a 60-120 n1 sum4 r0'],
  },
  {
    name: 'tumbling: nothing is emitted before the watermark passes the end',
    inputs: [
      ['a', 1_000, 1],
      ['a', 64_999, 2],
    ],
    flush: false,
    brief: [],
  },
  {
    name: 'a reading within the lateness is accepted into its still-open window',
    inputs: [
      ['a', 61_000, 1],
      ['a', 59_000, 2],
      ['a', 66_000, 1],
    ],
    brief: ['a 0-60 n1 sum2 r0', 'a 60-120 n2 sum2 r0'],
  },
  {
    name: "per device: one device's newer readings close only its own windows",
    inputs: [
      ['a', 1_000, 1],
      ['b', 2_000, 2],
      ['a', 130_000, 4],
      ['b', 3_000, 8],
      ['b', 70_000, 16],
    ],
    outcomes: ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
    brief: ['a 0-60 n1 sum1 r0', 'b 0-60 n2 sum10 r0', 'a 120-180 n1 sum4 r0', 'b 60-120 n1 sum16 r0'],
  },
  {
    name: 'per device: a device stamping 55 s ahead of the agent clock makes no other device late',
    options: { idleAfterMs: 65_000 },
    inputs: [
      ['a', 50_000, 1, 50_000],
      ['f', 105_000, 2, 50_000],
      ['a', 51_000, 4, 51_000],
      ['f', 180_000, 8, 125_000],
      ['a', 59_000, 16, 59_000],
    ],
    outcomes: ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
    brief: ['f 60-120 n1 sum2 r0', 'a 0-60 n3 sum21 r0', 'f 180-240 n1 sum8 r0'],
  },
  {
    name: "a device's readings stamped further behind the agent's event time than idleAfterMs + lateness are late",
    options: { idleAfterMs: 10_000 },
    inputs: [
      ['a', 100_000, 1],
      ['b', 1_000, 2],
      ['b', 59_000, 4],
      ['b', 61_000, 8],
    ],
    outcomes: ['accepted', 'late', 'late', 'accepted'],
    brief: ['a 60-120 n1 sum1 r0', 'b 60-120 n1 sum8 r0'],
  },
  {
    name: "the agent's event time never passes the agent clock: a fast device cannot make the others trail it",
    options: { idleAfterMs: 10_000 },
    inputs: [
      ['f', 100_000, 1, 45_000],
      ['a', 40_000, 2, 45_000],
    ],
    outcomes: ['accepted', 'accepted'],
    brief: ['f 60-120 n1 sum1 r0', 'a 0-60 n1 sum2 r0'],
  },
  {
    name: 'drop: a reading for an emitted window is late and dropped',
    inputs: [
      ['a', 1_000, 1],
      ['a', 70_000, 2],
      ['a', 2_000, 5],
    ],
    outcomes: ['accepted', 'accepted', 'late'],
    brief: ['a 0-60 n1 sum1 r0', 'a 60-120 n1 sum2 r0'],
  },
  {
    name: 're-emit: a late reading re-emits the whole window with rev 1',
    options: { lateReadings: 're-emit' },
    inputs: [
      ['a', 1_000, 1],
      ['a', 70_000, 2],
      ['a', 2_000, 5],
    ],
    outcomes: ['accepted', 'accepted', 'corrected'],
    brief: ['a 0-60 n1 sum1 r0', 'a 0-60 n2 sum6 r1', 'a 60-120 n1 sum2 r0'],
  },
  {
    name: 're-emit: beyond the horizon a reading is too late',
    options: { lateReadings: 're-emit', lateHorizonMs: 60_000 },
    inputs: [
      ['a', 1_000, 1],
      ['a', 200_000, 2],
      ['a', 2_000, 5],
    ],
    outcomes: ['accepted', 'accepted', 'too-late'],
    brief: ['a 0-60 n1 sum1 r0', 'a 180-240 n1 sum2 r0'],
  },
  {
    name: 'sliding: each reading lands in length/slide windows, built from panes',
    options: { lengthMs: 60_000, slideMs: 20_000, allowedLatenessMs: 0 },
    inputs: [
      ['a', 5_000, 1],
      ['a', 25_000, 2],
      ['a', 45_000, 4],
    ],
    brief: [
      'a -40-20 n1 sum1 r0',
      'a -20-40 n2 sum3 r0',
      'a 0-60 n3 sum7 r0',
      'a 20-80 n2 sum6 r0',
      'a 40-100 n1 sum4 r0',
    ],
  },
  {
    name: 'sliding re-emit: a late reading corrects only the emitted windows that hold it',
    options: { lengthMs: 60_000, slideMs: 20_000, allowedLatenessMs: 0, lateReadings: 're-emit' },
    inputs: [
      ['a', 5_000, 1],
      ['a', 45_000, 4],
      ['a', 21_000, 2],
    ],
    outcomes: ['accepted', 'accepted', 'corrected'],
    brief: [
      'a -40-20 n1 sum1 r0',
      'a -20-40 n1 sum1 r0',
      'a -20-40 n2 sum3 r1',
      'a 0-60 n3 sum7 r0',
      'a 20-80 n2 sum6 r0',
      'a 40-100 n1 sum4 r0',
    ],
  },
  {
    name: 'reject-new: a new series over maxSeries is refused',
    options: { maxSeries: 1 },
    inputs: [
      ['a', 1_000, 1],
      ['b', 2_000, 1],
    ],
    outcomes: ['accepted', 'series-limit'],
    brief: ['a 0-60 n1 sum1 r0'],
  },
  {
    name: 'evict-lru: the least recently updated series is emitted and forgotten; its emitted window refuses it',
    options: { maxSeries: 2, onSeriesLimit: 'evict-lru' },
    inputs: [
      ['a', 1_000, 1],
      ['b', 2_000, 1],
      ['a', 3_000, 1],
      ['c', 4_000, 1],
      ['b', 5_000, 7],
      ['b', 61_000, 9],
    ],
    outcomes: ['accepted', 'accepted', 'accepted', 'accepted', 'evicted-window', 'accepted'],
    brief: ['b 0-60 n1 sum1 r0', 'a 0-60 n2 sum2 r0', 'c 0-60 n1 sum1 r0', 'b 60-120 n1 sum9 r0'],
  },
  {
    name: 'pane limit: a series cannot open more panes than maxPanesPerSeries',
    options: { maxPanesPerSeries: 2, allowedLatenessMs: 600_000 },
    inputs: [
      ['a', 1_000, 1],
      ['a', 61_000, 1],
      ['a', 121_000, 1],
    ],
    outcomes: ['accepted', 'accepted', 'pane-limit'],
    brief: ['a 0-60 n1 sum1 r0', 'a 60-120 n1 sum1 r0'],
  },
  {
    name: 'negative remainders: windows stay aligned for any timestamp',
    options: { lengthMs: 7_000, slideMs: 7_000, allowedLatenessMs: 0 },
    inputs: [['a', 0, 1]],
    brief: [`a ${-(T0 % 7_000) / 1000}-${(7_000 - (T0 % 7_000)) / 1000} n1 sum1 r0`],
  },
];

for (const c of cases) {
  test(`window engine: ${c.name}`, () => {
    const r = run(c.options ?? {}, c.inputs, c.flush ?? true);
    if (c.outcomes) assert.deepEqual(r.outcomes, c.outcomes);
    assert.deepEqual(r.brief, c.brief);
  });
}

test('window results carry first/last by event time, Welford terms and quantiles', () => {
  const { windows } = run({}, [
    ['a', 3_000, 5],
    ['a', 1_000, 1],
    ['a', 2_000, 3],
  ]);
  const [w] = windows;
  assert.ok(w && hasReadings(w));
  assert.equal(w.first, 1);
  assert.equal(w.last, 5);
  assert.equal(w.lastTs, T0 + 3_000);
  assert.equal(w.firstTs, T0 + 1_000);
  assert.equal(w.mean, 3);
  assert.ok(Math.abs(w.m2 - 8) < 1e-12);
  assert.deepEqual(w.quantiles, { p50: 3, p90: 5, p99: 5 });
  assert.equal(w.outOfRange, undefined);
});

test('out-of-range readings are counted against their window, and a window holding only those is sent as such', () => {
  const windows: WindowResult[] = [];
  let only = 0;
  const engine = new WindowEngine(base, {
    window: (w) => windows.push(w),
    evicted: () => undefined,
    outOfRangeOnly: () => only++,
  });
  engine.add('a', 't', T0 + 1_000, 1, T0 + LATER);
  assert.equal(engine.noteOutOfRange('a', 't', T0 + 2_000), true);
  assert.equal(engine.noteOutOfRange('a', 't', T0 + 3_000), true);
  assert.equal(engine.noteOutOfRange('a', 't', T0 + 61_000), true);
  engine.add('a', 't', T0 + 200_000, 1, T0 + LATER);
  assert.deepEqual(
    windows.map((w) => [w.start - T0, w.count, w.outOfRange]),
    [
      [0, 1, 2],
      [60_000, 0, 1],
    ],
  );
  assert.deepEqual(windows[1], {
    device: 'a',
    metric: 't',
    start: T0 + 60_000,
    end: T0 + 120_000,
    count: 0,
    rev: 0,
    outOfRange: 1,
  });
  assert.equal(only, 1);
  assert.equal(engine.noteOutOfRange('a', 't', T0 + 1_000), false, 'a closed window is not changed');
});

test('a glitch put back at recovery takes no slot that only evicting frees, as when it came (evict-lru)', () => {
  const windows: WindowResult[] = [];
  let evicted = 0;
  const engine = new WindowEngine(
    { ...base, maxSeries: 1, onSeriesLimit: 'evict-lru' },
    { window: (w) => windows.push(w), evicted: () => evicted++, outOfRangeOnly: () => undefined },
  );
  engine.add('a', 't', T0 + 1_000, 1, T0 + LATER);
  assert.equal(engine.noteOutOfRange('b', 't', T0 + 2_000), false, 'live: refused');
  assert.equal(engine.rebuild('b', 't', T0 + 2_000, undefined, T0 + LATER), false, 'recovery: refused the same way');
  assert.equal(evicted, 0);
  assert.equal(engine.rebuild('a', 't', T0 + 3_000, undefined, T0 + LATER), true, 'a series that exists counts it');
  engine.flush();
  assert.deepEqual(
    windows.map((w) => [w.device, w.count, w.outOfRange]),
    [['a', 1, 1]],
  );
});

test('a series with nothing open is forgotten once its windows are emitted', () => {
  const { engine } = run({}, [['a', 1_000, 1]], false);
  engine.add('a', 'h', T0 + 200_000, 1, T0 + LATER);
  assert.equal(engine.activeSeries, 1);
});

test('complete: the lowest device boundary as of the last tick, never past the agent clock minus the lateness', () => {
  const { engine } = run(
    { idleAfterMs: 3_600_000 },
    [
      ['a', 70_000, 1, 70_000],
      ['b', 130_000, 1, 130_000],
    ],
    false,
  );
  assert.equal(engine.complete, -Infinity, 'nothing is claimed before a tick');
  engine.tick(T0 + 130_000);
  assert.equal(engine.complete, T0 + 60_000, "a's boundary: its windows up to 60 s are emitted, b's up to 120 s");
  engine.add('a', 't', T0 + 190_000, 1, T0 + 190_000);
  engine.add('b', 't', T0 + 400_000, 1, T0 + 190_000); // b runs 210 s fast
  engine.tick(T0 + 190_000);
  assert.equal(engine.complete, T0 + 180_000, "a's boundary, not b's at 360 s");
  engine.add('a', 't', T0 + 250_000, 1, T0 + 250_000);
  engine.tick(T0 + 250_000);
  assert.equal(engine.complete, T0 + 240_000);
  // a's window [240, 300) is still open: a device seen for the first time must not be judged against b's clock.
  assert.equal(engine.add('c', 't', T0 + 246_000, 1, T0 + 250_000), 'accepted');
});

test("idle progress: when readings stop, a device's windows close by the agent clock after idleAfterMs; a reading after it is judged by the normal rules", () => {
  const windows: WindowResult[] = [];
  const engine = new WindowEngine(
    { ...base, lengthMs: 10_000, slideMs: 10_000, allowedLatenessMs: 2_000, idleAfterMs: 12_000 },
    { window: (w) => windows.push(w), evicted: () => undefined, outOfRangeOnly: () => undefined },
  );
  const ends = (): number[] => windows.map((w) => (w.end - T0) / 1000);
  // The agent's timer ticks every 100 ms: an advance is seen at the tick after the reading.
  const at = (t: number, value: number): void => {
    engine.add('a', 't', T0 + t, value, T0 + t);
    engine.tick(T0 + t);
  };
  at(1_000, 1);
  at(9_000, 1); // its window [0, 10 s) is due when the watermark passes 10 s
  engine.tick(T0 + 20_999);
  assert.deepEqual(ends(), [], 'not idle yet: 12 s without a reading have not passed');
  engine.tick(T0 + 21_000);
  assert.deepEqual(ends(), [10], 'idle: closed as a reading stamped now would (now − lateness = 19 s)');
  assert.equal(engine.complete, T0 + 10_000);
  engine.tick(T0 + 42_000);
  assert.equal(engine.complete, T0 + 40_000, 'the watermark follows the agent clock while nothing comes');
  assert.equal(
    engine.add('a', 't', T0 + 39_000, 1, T0 + 42_000),
    'late',
    'a reading for a window the clock closed is late',
  );
  assert.equal(engine.add('a', 't', T0 + 41_000, 2, T0 + 42_000), 'accepted', 'one for an open window is taken');
  at(52_000, 4);
  assert.deepEqual(ends(), [10, 50], 'its own clock closes its windows again');
  engine.flush();
  assert.deepEqual(
    windows.map((w) => w.count),
    [2, 1, 1],
    'each reading counted once',
  );
});

test('idle progress waits idleAfterMs from a resume (a restart or reconnect: a backlog may follow)', () => {
  const windows: WindowResult[] = [];
  const engine = new WindowEngine(
    { ...base, lengthMs: 10_000, slideMs: 10_000, allowedLatenessMs: 2_000, idleAfterMs: 12_000 },
    { window: (w) => windows.push(w), evicted: () => undefined, outOfRangeOnly: () => undefined },
  );
  engine.add('a', 't', T0 + 9_000, 1, T0 + 9_000);
  engine.tick(T0 + 9_000);
  engine.resume(T0 + 15_000);
  engine.tick(T0 + 26_999);
  assert.equal(windows.length, 0);
  engine.tick(T0 + 27_000);
  assert.equal(windows.length, 1);
});

test('hundreds of devices (their clocks outgrow the first array): every reading is emitted once, by idle progress', () => {
  const windows: WindowResult[] = [];
  const engine = new WindowEngine(
    { ...base, maxSeries: 10_000, idleAfterMs: 65_000 },
    { window: (w) => windows.push(w), evicted: () => undefined, outOfRangeOnly: () => undefined },
  );
  for (let d = 0; d < 700; d++) assert.equal(engine.add(`d${d}`, 't', T0 + 1_000 + d, d, T0 + 1_000 + d), 'accepted');
  engine.tick(T0 + 2_000);
  engine.tick(T0 + 100_000);
  assert.equal(windows.length, 700, 'each device’s window closed');
  assert.equal(
    windows.reduce((n, w) => n + w.count, 0),
    700,
  );
  assert.equal(engine.activeSeries, 0);
});
