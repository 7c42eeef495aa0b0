import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSerialLine, WindowResultSchema, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ManualClock, ProblemReport } from '@tributary/runtime';
import { FilterChains } from './filters/registry.js';
import { agentCounterHelp, IngestPipeline, type AgentCounter } from './pipeline.js';
import { WindowEngine } from './window-engine.js';

const NOW = 1_700_000_000_000;

function setup(extra: { maxMessagesPerS?: number; burstMessages?: number } = {}) {
  const clock = new ManualClock(NOW);
  const counters = new Counters<AgentCounter>(agentCounterHelp);
  const problems = new ProblemReport();
  const windows: WindowResult[] = [];
  const engine = new WindowEngine(
    {
      lengthMs: 60_000,
      slideMs: 60_000,
      allowedLatenessMs: 5_000,
      idleAfterMs: 65_000,
      maxSeries: 10,
      onSeriesLimit: 'reject-new',
      lateReadings: 'drop',
      lateHorizonMs: 0,
      maxPanesPerSeries: 8,
      sketchK: 16,
    },
    {
      window: (w) => windows.push(w),
      evicted: () => counters.inc('series_evicted'),
      outOfRangeOnly: () => counters.inc('windows_out_of_range_only'),
    },
  );
  const filters = new FilterChains({
    t: [{ type: 'range', min: 0, max: 50 }],
    default: [{ type: 'dedupe', windowSize: 16, maxSeries: 10 }],
  });
  const pipeline = new IngestPipeline({
    filters,
    windows: engine,
    clock,
    maxFutureMs: 60_000,
    counters,
    problems,
    ...extra,
  });
  return { clock, counters, problems, windows, engine, pipeline };
}

test('a JSON message with two values is two readings; filters and windows count what they remove', () => {
  const { pipeline, counters, engine, windows } = setup();
  const msg = (seq: number, t: number, h: number, ts = NOW - 1_000) =>
    JSON.stringify({ device: 'd1', ts, seq, values: { t, h } });
  pipeline.ingestJson(msg(1, 20, 40), 4096, 'test');
  pipeline.ingestJson(msg(1, 21, 40), 4096, 'test'); // h is a duplicate (default chain: dedupe), t is not deduped
  pipeline.ingestJson(msg(2, 99, 41), 4096, 'test'); // t out of range
  pipeline.ingestJson(msg(3, 20, 41, NOW + 120_000), 4096, 'test'); // two future readings
  pipeline.ingestJson('{"device":"d1","values":{}}', 4096, 'test');
  pipeline.ingestJson('not json', 4096, 'test');
  engine.flush();
  const c = counters.snapshot();
  assert.equal(c.messages_received, 6);
  assert.equal(c.messages_invalid, 2);
  assert.equal(c.readings_received, 8);
  assert.equal(c.readings_future, 2);
  assert.equal(c.filtered_dedupe, 1);
  assert.equal(c.filtered_range, 1);
  assert.equal(c.readings_filtered, 2);
  assert.equal(c.readings_accepted, 4);
  const t = windows.find((w) => w.metric === 't');
  assert.equal(t?.count, 2);
  assert.equal(t?.outOfRange, 1, 'the window carries what the range filter removed');
  assert.equal(windows.find((w) => w.metric === 'h')?.count, 2);
});

test('a window whose only reading is out of range is sent with count 0 and its outOfRange (the sensor spoke; every reading was bad)', () => {
  const { pipeline, counters, engine, windows } = setup();
  // An environmental sensor: one reading a window; this window's one reading is a glitch.
  pipeline.ingestJson(JSON.stringify({ device: 'env-7', ts: NOW - 1_000, values: { t: 999 } }), 4096, 'test');
  engine.flush();
  const start = Math.floor((NOW - 1_000) / 60_000) * 60_000;
  assert.deepEqual(windows, [
    { device: 'env-7', metric: 't', start, end: start + 60_000, count: 0, rev: 0, outOfRange: 1 },
  ]);
  assert.equal(WindowResultSchema.safeParse(windows[0]).success, true, 'the batch schema takes it');
  assert.equal(counters.get('filtered_range'), 1);
  assert.equal(counters.get('windows_out_of_range_only'), 1);
  assert.equal(counters.get('readings_accepted'), 0);
});

test('a device without a clock gets arrival time; a future timestamp does not move the watermark', () => {
  const { pipeline, engine, problems } = setup();
  pipeline.ingestJson(JSON.stringify({ device: 'd1', values: { h: 1 } }), 4096, 'test');
  assert.equal(engine.watermarkOf('d1'), NOW - 5_000);
  pipeline.ingestJson(JSON.stringify({ device: 'd1', ts: NOW + 3_600_000, values: { h: 1 } }), 4096, 'test');
  assert.equal(engine.watermarkOf('d1'), NOW - 5_000);
  assert.equal(problems.drain().find((p) => p.reason === 'future_timestamp')?.count, 1);
});

test('serial lines: a bad checksum and a framing error are counted by reason', () => {
  const { pipeline, counters } = setup();
  const good = encodeSerialLine({ device: 'd1', seq: 1, ts: NOW, values: { h: 2 } });
  pipeline.ingestSerialLine(good, 'serial');
  pipeline.ingestSerialLine(good.replace('h=2', 'h=3'), 'serial');
  pipeline.framingError('garbage', 'serial');
  const c = counters.snapshot();
  assert.deepEqual([c.messages_received, c.invalid_checksum, c.invalid_framing, c.readings_accepted], [3, 1, 1, 1]);
});

test('intake sheds messages over maxMessagesPerS before decoding, and counts them', () => {
  const { pipeline, counters, clock } = setup({ maxMessagesPerS: 100, burstMessages: 10 });
  const msg = JSON.stringify({ device: 'd1', values: { h: 1 } });
  for (let i = 0; i < 50; i++) pipeline.ingestJson(msg, 4096, 'test');
  assert.equal(counters.get('messages_shed'), 40);
  clock.advance(100); // 10 more tokens
  for (let i = 0; i < 50; i++) pipeline.ingestJson(msg, 4096, 'test');
  assert.equal(counters.get('messages_shed'), 80);
  assert.equal(counters.get('messages_received'), 100);
  assert.equal(counters.get('readings_received'), 20);
});

test('at maxSeries (reject-new), readings of new series are refused before the filters, so tracked series keep their filter state', () => {
  const { pipeline, counters } = setup();
  const msg = (device: string, seq: number) => JSON.stringify({ device, ts: NOW - 1_000, seq, values: { h: 1 } });
  for (let d = 0; d < 10; d++) pipeline.ingestJson(msg(`real-${d}`, 1), 4096, 'test');
  // A flood of new device ids: refused at the window engine's bound...
  for (let d = 0; d < 100; d++) pipeline.ingestJson(msg(`flood-${d}`, 1), 4096, 'test');
  assert.equal(counters.get('readings_series_limit'), 100);
  // ...without evicting the dedupe state of the tracked series (its maxSeries is 10 too): a repeat is still caught.
  for (let d = 0; d < 10; d++) pipeline.ingestJson(msg(`real-${d}`, 1), 4096, 'test');
  assert.equal(counters.get('filtered_dedupe'), 10);
});
