import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  WindowEngine,
  addReading,
  emptyAggregate,
  mergeInto,
  type Aggregate,
  type WindowEngineOptions,
} from '@tributary/edge-agent';
import { hasReadings, type WindowResult } from '@tributary/firmware-schemas';
import fc from 'fast-check';

const T0 = 1_700_000_000_000;
const K = 16;

interface Reading {
  readonly device: string;
  readonly metric: string;
  readonly ts: number;
  readonly value: number;
  /** The agent clock when it arrived. */
  readonly now: number;
  /** Call `tick(now)` after it (the agent's timer). */
  readonly tick: boolean;
}

/** How far each device's clock is off the agent's: one runs 55 s fast (inside maxFutureMs), one 20 s slow. */
const OFFSETS: Record<string, number> = { d1: 0, d2: 0, 'd,3': -20_000, fast: 55_000 };

/**
 * Random streams: a few series of devices whose clocks are off by different amounts, timestamps
 * that mostly move forward with jitter (out of order within the lateness), exact duplicates, now
 * and then a reading far behind (late data), and the agent's timer ticking now and then.
 */
const streamArb = fc
  .array(
    fc.record({
      device: fc.constantFrom('d1', 'd2', 'd,3', 'fast'),
      metric: fc.constantFrom('t', 'h'),
      step: fc.integer({ min: 0, max: 4_000 }),
      jitter: fc.integer({ min: -9_000, max: 2_000 }),
      back: fc.option(fc.integer({ min: 10_000, max: 120_000 }), { freq: 8 }),
      value: fc.integer({ min: -50, max: 50 }),
      dup: fc.boolean(),
      tick: fc.boolean(),
    }),
    { minLength: 1, maxLength: 250 },
  )
  .map((steps) => {
    const out: Reading[] = [];
    let clock = T0;
    for (const s of steps) {
      clock += s.step;
      const r = {
        device: s.device,
        metric: s.metric,
        ts: clock + OFFSETS[s.device]! + s.jitter - (s.back ?? 0),
        value: s.value / 4,
        now: clock,
        tick: s.tick,
      };
      out.push(r);
      if (s.dup) out.push(r);
    }
    return out;
  });

const optionsArb = fc
  .record({
    slideMs: fc.constantFrom(5_000, 10_000, 20_000),
    panes: fc.constantFrom(1, 2, 3),
    allowedLatenessMs: fc.constantFrom(0, 3_000, 10_000),
    idleAfterMs: fc.constantFrom(5_000, 30_000, 65_000),
    lateReadings: fc.constantFrom('drop' as const, 're-emit' as const),
    lateHorizonMs: fc.constantFrom(0, 20_000, 60_000),
  })
  .map(
    (o): WindowEngineOptions => ({
      lengthMs: o.slideMs * o.panes,
      slideMs: o.slideMs,
      allowedLatenessMs: o.allowedLatenessMs,
      idleAfterMs: o.idleAfterMs,
      lateReadings: o.lateReadings,
      lateHorizonMs: o.lateHorizonMs,
      maxSeries: 1_000,
      onSeriesLimit: 'reject-new',
      maxPanesPerSeries: 1_000,
      sketchK: K,
    }),
  );

/** Feeds the stream to the engine as the agent does (each reading with its arrival time, ticks between). */
function feed(engine: WindowEngine, stream: readonly Reading[]): number {
  let accepted = 0;
  for (const r of stream) {
    const outcome = engine.add(r.device, r.metric, r.ts, r.value, r.now);
    if (outcome === 'accepted' || outcome === 'corrected') accepted++;
    if (r.tick) engine.tick(r.now);
  }
  return accepted;
}

/**
 * Which readings the event-time rules accept, decided one reading at a time without panes or
 * windows (DESIGN.md, "Event time"): each device has its own boundary (its newest event time minus
 * the lateness, floored to the slide), never below the agent's event time (newest timestamp, capped
 * at the agent clock) minus idleAfterMs and the lateness; at a tick, a device whose event time no
 * reading advanced for idleAfterMs of agent clock (an advance is seen at the tick after it) has its
 * boundary follow the clock (now minus the lateness); a device seen for the first time, or again after it was forgotten, starts at
 * `complete` (the lowest device boundary as of the last tick, never past the agent clock minus the
 * lateness). A device is forgotten at a tick when it has nothing open and `complete` covers it.
 */
function acceptedByRules(o: WindowEngineOptions, stream: readonly Reading[]): Reading[] {
  const { slideMs, lengthMs, allowedLatenessMs, idleAfterMs } = o;
  const horizon = o.lateReadings === 're-emit' ? o.lateHorizonMs : 0;
  const floorTo = (t: number): number => Math.floor(t / slideMs) * slideMs;
  /** Per device: its boundary, newest event time, and the newest pane of each series that still holds one. */
  const devices = new Map<
    string,
    { closed: number; maxTs: number; seenTs: number; advancedAt: number; newestPane: Map<string, number> }
  >();
  let agentTs = -Infinity;
  let complete = -Infinity;
  let clock = -Infinity;
  const lag = (): number => floorTo(agentTs - idleAfterMs - allowedLatenessMs);
  const close = (d: { closed: number; newestPane: Map<string, number> }, boundary: number): void => {
    if (boundary <= d.closed) return;
    d.closed = boundary;
    for (const [metric, newest] of d.newestPane)
      if (newest + lengthMs <= boundary - horizon) d.newestPane.delete(metric);
  };
  const out: Reading[] = [];
  for (const r of stream) {
    clock = Math.max(clock, r.now);
    let d = devices.get(r.device);
    if (d) close(d, lag());
    const closed = d ? d.closed : Math.max(complete, lag());
    const late = r.ts < closed;
    const paneStart = floorTo(r.ts);
    if (!(late && (o.lateReadings === 'drop' || paneStart + slideMs <= closed - o.lateHorizonMs))) {
      out.push(r);
      if (!d)
        devices.set(
          r.device,
          (d = { closed, maxTs: -Infinity, seenTs: -Infinity, advancedAt: clock, newestPane: new Map() }),
        );
      d.newestPane.set(r.metric, Math.max(d.newestPane.get(r.metric) ?? -Infinity, paneStart));
      if (!late && r.ts > d.maxTs) {
        d.maxTs = r.ts;
        agentTs = Math.max(agentTs, Math.min(r.ts, r.now));
        close(d, floorTo(r.ts - allowedLatenessMs));
      }
    }
    if (!r.tick) continue;
    let lowest = Infinity;
    for (const [name, dev] of devices) {
      // An advance is seen at the tick after it.
      if (dev.maxTs !== dev.seenTs) {
        dev.seenTs = dev.maxTs;
        dev.advancedAt = clock;
      }
      close(dev, lag());
      if (dev.advancedAt <= clock - idleAfterMs) close(dev, floorTo(clock - allowedLatenessMs));
      if (dev.newestPane.size === 0 && dev.closed <= complete) devices.delete(name);
      else lowest = Math.min(lowest, dev.closed);
    }
    if (complete > -Infinity || lowest < Infinity)
      complete = Math.max(complete, Math.min(lowest, floorTo(clock - allowedLatenessMs)));
  }
  return out;
}

/** Every window recomputed from scratch over the accepted readings, keyed by series and end. */
function bruteForce(
  o: WindowEngineOptions,
  accepted: readonly Reading[],
): Map<string, { agg: Aggregate; values: number[] }> {
  const windows = new Map<string, { agg: Aggregate; values: number[] }>();
  for (const r of accepted) {
    const paneStart = Math.floor(r.ts / o.slideMs) * o.slideMs;
    for (let end = paneStart + o.slideMs; end <= paneStart + o.lengthMs; end += o.slideMs) {
      const key = `${r.device}|${r.metric}|${end}`;
      let w = windows.get(key);
      if (w === undefined) windows.set(key, (w = { agg: emptyAggregate(), values: [] }));
      addReading(w.agg, r.ts, r.value);
      w.values.push(r.value);
    }
  }
  return windows;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

test('emitted windows (latest revision) equal a brute-force recomputation over the same input', () => {
  fc.assert(
    fc.property(optionsArb, streamArb, (o, stream) => {
      const emitted: WindowResult[] = [];
      const engine = new WindowEngine(o, {
        window: (w) => emitted.push(w),
        evicted: () => undefined,
        outOfRangeOnly: () => undefined,
      });
      const acceptedCount = feed(engine, stream);
      engine.flush();
      const accepted = acceptedByRules(o, stream);
      assert.equal(
        acceptedCount,
        accepted.length,
        'the engine accepts exactly the readings the event-time rules accept',
      );

      const latest = new Map<string, WindowResult>();
      for (const w of emitted) {
        const key = `${w.device}|${w.metric}|${w.end}`;
        const previous = latest.get(key);
        if (o.lateReadings === 'drop') assert.equal(previous, undefined, `window ${key} is emitted once in drop mode`);
        else assert.equal(w.rev, previous === undefined ? 0 : previous.rev + 1, `revisions of ${key} count up from 0`);
        latest.set(key, w);
      }
      const expected = bruteForce(o, accepted);
      assert.deepEqual([...latest.keys()].sort(), [...expected.keys()].sort(), 'the same windows');
      for (const [key, { agg, values }] of expected) {
        const w = latest.get(key)!;
        assert.ok(hasReadings(w), `${key} holds readings`);
        assert.equal(w.start, w.end - o.lengthMs);
        assert.equal(w.count, agg.count, `${key} count`);
        assert.ok(close(w.sum, agg.sum) && close(w.mean, agg.mean) && close(w.m2, agg.m2), `${key} sum/mean/m2`);
        assert.deepEqual(
          [w.min, w.max, w.first, w.last, w.firstTs, w.lastTs],
          [agg.min, agg.max, agg.first, agg.last, agg.firstTs, agg.lastTs],
          `${key} min/max/first/last`,
        );
        if (values.length < K) {
          const sorted = [...values].sort((a, b) => a - b);
          const q = (p: number): number => sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
          assert.deepEqual(w.quantiles, { p50: q(0.5), p90: q(0.9), p99: q(0.99) }, `${key} quantiles`);
        }
      }
      if (o.lengthMs === o.slideMs) {
        let sum = 0;
        for (const w of latest.values()) sum += w.count;
        assert.equal(sum, accepted.length, 'Σ count over the latest revisions equals the readings accepted');
      }
    }),
    { numRuns: 1000 },
  );
});

test('with evict-lru at a small maxSeries, every window is emitted once per revision and Σ count equals the readings accepted', () => {
  fc.assert(
    fc.property(optionsArb, streamArb, fc.integer({ min: 1, max: 4 }), (o, stream, maxSeries) => {
      const tumbling = { ...o, lengthMs: o.slideMs, maxSeries, onSeriesLimit: 'evict-lru' as const };
      const emitted: WindowResult[] = [];
      let evicted = 0;
      const engine = new WindowEngine(tumbling, {
        window: (w) => emitted.push(w),
        evicted: () => evicted++,
        outOfRangeOnly: () => undefined,
      });
      let accepted = 0;
      for (const r of stream) {
        accepted += feed(engine, [r]);
        assert.ok(engine.activeSeries <= maxSeries);
        assert.ok(engine.devices <= maxSeries, 'device clocks are bounded by maxSeries');
      }
      engine.flush();
      const latest = new Map<string, WindowResult>();
      for (const w of emitted) {
        const key = `${w.device}|${w.metric}|${w.end}`;
        const previous = latest.get(key);
        assert.equal(
          w.rev,
          previous === undefined ? 0 : previous.rev + 1,
          `${key}: no second rev-0 emission after an eviction`,
        );
        if (previous) assert.ok(w.count > previous.count, `${key}: a correction carries the whole window`);
        latest.set(key, w);
      }
      let sum = 0;
      for (const w of latest.values()) sum += w.count;
      assert.equal(sum, accepted);
    }),
    { numRuns: 1000 },
  );
});

test("an honest device's in-order readings are never late, whatever another device stamps within maxFutureMs", () => {
  const steps = fc.array(
    fc.record({
      fast: fc.boolean(),
      step: fc.integer({ min: 0, max: 6_000 }),
      ahead: fc.integer({ min: 0, max: 55_000 }),
      tick: fc.boolean(),
    }),
    { minLength: 1, maxLength: 300 },
  );
  fc.assert(
    fc.property(optionsArb, steps, (o, steps) => {
      const engine = new WindowEngine(o, {
        window: () => undefined,
        evicted: () => undefined,
        outOfRangeOnly: () => undefined,
      });
      let clock = T0;
      for (const [i, s] of steps.entries()) {
        clock += s.step;
        if (s.fast) engine.add('fast', 't', clock + s.ahead, 1, clock);
        else
          assert.equal(
            engine.add(i % 2 === 0 ? 'd1' : 'd2', 't', clock, 1, clock),
            'accepted',
            `reading ${i} of an honest device`,
          );
        if (s.tick) engine.tick(clock);
      }
    }),
    { numRuns: 1000 },
  );
});

test('merging aggregates is associative (up to rounding) and agrees with adding every reading', () => {
  const part = fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.double({ min: -1e3, max: 1e3, noNaN: true })), {
    maxLength: 30,
  });
  fc.assert(
    fc.property(part, part, part, (a, b, c) => {
      const of = (rs: [number, number][]): Aggregate => {
        const g = emptyAggregate();
        for (const [ts, x] of rs) addReading(g, ts, x);
        return g;
      };
      const left = of(a);
      mergeInto(left, of(b));
      mergeInto(left, of(c));
      const bc = of(b);
      mergeInto(bc, of(c));
      const right = of(a);
      mergeInto(right, bc);
      const all = of([...a, ...b, ...c]);
      for (const g of [left, right]) {
        assert.equal(g.count, all.count);
        assert.equal(g.min, all.min);
        assert.equal(g.max, all.max);
        assert.ok(Math.abs(g.sum - all.sum) <= 1e-9 * Math.max(1, Math.abs(all.sum)) + 1e-6);
        assert.ok(Math.abs(g.mean - all.mean) <= 1e-9 * Math.max(1, Math.abs(all.mean)) + 1e-9);
        assert.ok(Math.abs(g.m2 - all.m2) <= 1e-9 * Math.max(1, all.m2));
        assert.equal(g.firstTs, all.firstTs);
        assert.equal(g.lastTs, all.lastTs);
      }
    }),
    { numRuns: 1000 },
  );
});
