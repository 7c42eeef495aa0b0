import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { AlertLifecycle, openThreshold } from '../alerts/lifecycle.js';
import { detectorPlans } from './registry.js';
import { sensorWindows } from './synthetic.js';
import { Detection, MISSING_DATA, OUT_OF_RANGE, type SeriesInput } from './detection.js';

const config = ProcessorConfigSchema.parse({});
const W = 300_000;

function detection(): Detection {
  return new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), 1000);
}

/** Eight temperature series over a day; series 3 spikes at window 200, series 5 goes silent at 150–160. */
function fleet(): SeriesInput[] {
  const out: SeriesInput[] = [];
  for (let s = 0; s < 8; s++) {
    const windows = sensorWindows({
      seed: 10 + s,
      windows: 288,
      dailyAmplitude: 3,
      noise: 0.1,
      readingsPerWindow: 20,
      fault: (w, r, x) => (s === 3 && w === 200 && r === 4 ? x + 6 : x),
      missing: (w) => s === 5 && w >= 150 && w < 160,
    });
    for (const p of windows)
      out.push({
        ...p,
        device: `dev-${s}`,
        metric: 'temperature',
        lengthMs: W,
        outOfRange: s === 6 && p.ts === windows[240]!.ts ? 2 : 0,
      });
  }
  return out;
}

const brief = (alerts: AlertEvent[]): string[] => alerts.map((a) => `${a.state} ${a.device} ${a.detector} ${a.at}`);

/** Feeds the points cut into batches of `size`, each with the watermark an agent would send. */
function inBatches(d: Detection, points: SeriesInput[], size: number): AlertEvent[] {
  const sorted = [...points].sort((a, b) => a.ts - b.ts);
  const alerts: AlertEvent[] = [];
  for (let i = 0; i < sorted.length; i += size) {
    const batch = sorted.slice(i, i + size);
    const next = sorted[i + size];
    // Complete up to the last end all of whose windows are in: before the next batch's first end.
    const complete = next === undefined ? batch.at(-1)!.ts : next.ts - W;
    alerts.push(...d.ingest('gw', batch, complete));
  }
  return alerts;
}

test('detection finds the spike, the silence and the out-of-range readings, and nothing else', () => {
  const alerts = inBatches(detection(), fleet(), 50);
  const opened = alerts.filter((a) => a.state === 'opened').map((a) => `${a.device} ${a.detector}`);
  assert.deepEqual(opened.sort(), ['dev-3 ensemble', `dev-5 ${MISSING_DATA}`, `dev-6 ${OUT_OF_RANGE}`]);
});

test('alerts do not depend on how the points were cut into batches', () => {
  const whole = inBatches(detection(), fleet(), 100_000);
  for (const size of [7, 8, 13, 500])
    assert.deepEqual(brief(inBatches(detection(), fleet(), size)), brief(whole), `batches of ${size}`);
});

test("alerts do not depend on how far the watermark lags behind the batch's points", () => {
  // An agent's watermark is its slowest device's boundary as of its last tick, while its windows
  // close as readings come: a batch's points may run windows ahead of its watermark, the more so
  // the later the agent's timer runs. Silences of 2 to 10 windows, on three series.
  const gaps: Record<number, [number, number][]> = {
    1: [
      [60, 62],
      [200, 204],
    ],
    4: [
      [90, 93],
      [230, 236],
    ],
    5: [[150, 160]],
  };
  const points: SeriesInput[] = [];
  for (let s = 0; s < 8; s++) {
    const windows = sensorWindows({
      seed: 10 + s,
      windows: 288,
      dailyAmplitude: 3,
      noise: 0.1,
      readingsPerWindow: 20,
      missing: (w) => (gaps[s] ?? []).some(([from, to]) => w >= from && w < to),
    });
    for (const p of windows) points.push({ ...p, device: `dev-${s}`, metric: 'temperature', lengthMs: W });
  }
  points.sort((a, b) => a.ts - b.ts);
  const lagging = (size: number, lagWindows: number): AlertEvent[] => {
    const d = detection();
    const alerts: AlertEvent[] = [];
    for (let i = 0; i < points.length; i += size) {
      const batch = points.slice(i, i + size);
      const complete = i + size >= points.length ? batch.at(-1)!.ts : batch.at(-1)!.ts - lagWindows * W;
      alerts.push(...d.ingest('gw', batch, complete));
    }
    return alerts;
  };
  const whole = brief(lagging(points.length, 0));
  assert.ok(
    whole.filter((a) => a.startsWith(`opened dev-`) && a.includes(MISSING_DATA)).length >= 3,
    `the silences are found: ${whole.join('; ')}`,
  );
  for (const size of [16, 40, 80, 200]) {
    for (const lag of [1, 3, 6, 9])
      assert.deepEqual(
        brief(lagging(size, lag)),
        whole,
        `batches of ${size}, the watermark ${lag} window(s) behind their last point`,
      );
  }
});

test('checkpoint and restore give the same alerts as an uninterrupted run', () => {
  const points = fleet().sort((a, b) => a.ts - b.ts);
  // Stop between two window ends, as a processor does: what came before is complete.
  const middle = points[Math.floor(points.length / 2)]!.ts;
  const half = points.findIndex((p) => p.ts === middle);
  const uninterrupted = inBatches(detection(), points, 40);
  const first = detection();
  const before = inBatches(first, points.slice(0, half), 40);
  const resumed = detection();
  resumed.restore(JSON.parse(JSON.stringify(first.snapshot())));
  const after = inBatches(resumed, points.slice(half), 40);
  assert.deepEqual(brief([...before, ...after]), brief(uninterrupted));
});

test('series beyond maxSeries evict the least recently updated', () => {
  let evicted = 0;
  const d = new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), 3, () => evicted++);
  const p = (device: string, ts: number): SeriesInput => ({
    device,
    metric: 'x',
    ts,
    lengthMs: W,
    value: 1,
    min: 1,
    max: 1,
    stddev: 0,
    count: 2,
  });
  d.ingest('gw', [p('a', W), p('b', W), p('c', W), p('a', 2 * W), p('d', 2 * W)]);
  assert.equal(d.size, 3);
  assert.equal(evicted, 1);
  assert.deepEqual(
    d
      .snapshot()
      .series.map((s) => s.device)
      .sort(),
    ['a', 'c', 'd'],
  );
});

test('a checkpoint file written while running restores the same detection', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readCheckpoint, writeCheckpoint } = await import('../state/checkpoint.js');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-checkpoint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const points = fleet().sort((a, b) => a.ts - b.ts);
  const middle = points[Math.floor(points.length / 2)]!.ts;
  const half = points.findIndex((p) => p.ts === middle);
  const first = detection();
  const before = inBatches(first, points.slice(0, half), 40);
  const file = join(dir, 'detection.json.gz');
  assert.ok((await writeCheckpoint(file, first.snapshotParts())) > 0);
  const resumed = detection();
  const saved = readCheckpoint(file);
  assert.ok(saved?.ok);
  resumed.restoreParts(saved.parts);
  const after = inBatches(resumed, points.slice(half), 40);
  assert.deepEqual(brief([...before, ...after]), brief(inBatches(detection(), points, 40)));
});

test('a restore from a stale checkpoint does not take the points since then for silence', () => {
  const points = fleet().sort((a, b) => a.ts - b.ts);
  const at = (i: number): number => points.findIndex((p) => p.ts === points[i]!.ts);
  const checkpointAt = at(Math.floor(points.length / 3));
  const crashAt = at(Math.floor(points.length / 2));
  const first = detection();
  inBatches(first, points.slice(0, checkpointAt), 40);
  const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
  // Batches between the checkpoint and the crash were acked: they never come again.
  const resumed = detection();
  resumed.restore(snapshot);
  const after = inBatches(resumed, points.slice(crashAt), 40);
  assert.deepEqual(
    after
      .filter((a) => a.detector === MISSING_DATA && a.state === 'opened' && a.device !== 'dev-5')
      .map((a) => a.device),
    [],
  );
});

test('a batch overtaken by the next one does not make its series look silent', async () => {
  const { SeqOrder } = await import('../state/seq-order.js');
  const order = new SeqOrder();
  assert.deepEqual(
    [1, 2, 4, 3, 5].map((seq) => order.see('gw', 1, seq)),
    [true, true, false, true, true],
  );
  assert.equal(order.see('gw', 2, 0), true, 'a new epoch starts afresh');
});

test('an evicted series has its open alerts closed, so they cannot fill maxOpen for good', () => {
  const lifecycle = new AlertLifecycle(config.alerts);
  const d = new Detection(detectorPlans(config.detection), lifecycle, 2);
  const p = (device: string, ts: number, outOfRange = 0): SeriesInput => ({
    device,
    metric: 'x',
    ts,
    lengthMs: W,
    value: 1,
    min: 1,
    max: 1.2,
    stddev: 0.1,
    count: 5,
    outOfRange,
  });
  const opened = d.ingest('gw', [p('a', W, 3)]);
  assert.deepEqual(
    opened.map((a) => `${a.state} ${a.device} ${a.detector}`),
    [`opened a ${OUT_OF_RANGE}`],
  );
  assert.equal(lifecycle.openCount, 1);
  const later = d.ingest('gw', [p('b', 2 * W), p('c', 2 * W)]);
  const closed = later.filter((a) => a.state === 'resolved');
  assert.equal(closed.length, 1);
  assert.equal(closed[0]!.device, 'a');
  assert.match(closed[0]!.message, /no longer watched.*maxSeries 2/);
  assert.equal(closed[0]!.at, 2 * W, 'closed when it was evicted, not back at its last point');
  assert.equal(closed[0]!.resolvedAt, 2 * W);
  assert.deepEqual(lifecycle.recent().at(-1), closed[0], '/api/alerts lists the same transition');
  assert.equal(lifecycle.openCount, 0);
});

test('batches without windows from ever new agent ids leave no state behind', () => {
  const d = detection();
  for (let i = 0; i < 1000; i++) d.ingest(`agent-${i}`, [], Date.now());
  assert.deepEqual(d.snapshot().agents, []);
});

test('open alerts of series a restore leaves out are closed, and go out with the next batch', () => {
  const points = fleet().sort((a, b) => a.ts - b.ts);
  // Checkpoint while dev-5 is silent (windows 150-159): its missing-data alert is open.
  const ends = points.filter((p) => p.device === 'dev-0').map((p) => p.ts);
  const cut = points.findIndex((p) => p.ts > ends[156]!);
  const lifecycle = new AlertLifecycle(config.alerts);
  const first = new Detection(detectorPlans(config.detection), lifecycle, 1000);
  inBatches(first, points.slice(0, cut), 40);
  assert.deepEqual(
    lifecycle.openAlerts().map((a) => `${a.device} ${a.detector}`),
    [`dev-5 ${MISSING_DATA}`],
  );
  const snapshot = JSON.parse(JSON.stringify(first.snapshot()));

  // Every series restored: the alert stays open, to be resolved when dev-5 reports again.
  const whole = new AlertLifecycle(config.alerts);
  const all = new Detection(detectorPlans(config.detection), whole, 1000);
  all.restore(snapshot);
  assert.equal(all.alertsClosedOnRestore, 0);
  assert.equal(whole.openCount, 1);

  // Temperature has another detector now: no series comes back, and nothing could ever resolve dev-5's alert.
  const changed = ProcessorConfigSchema.parse({
    detection: { metrics: { temperature: { detector: 'robust-zscore' } } },
  });
  const small = new AlertLifecycle(changed.alerts);
  const resumed = new Detection(detectorPlans(changed.detection), small, 1000);
  resumed.restore(snapshot);
  assert.equal(resumed.skippedOnRestore, 8);
  assert.equal(resumed.alertsClosedOnRestore, 1);
  assert.equal(small.openCount, 0);
  // Room for 2 of the 8 series: the 2 most recently seen are kept; silent dev-5 is the least, and is left out.
  const fewer = new AlertLifecycle(config.alerts);
  const two = new Detection(detectorPlans(config.detection), fewer, 2);
  two.restore(snapshot);
  assert.equal(two.size, 2);
  assert.equal(two.skippedOnRestore, 6);
  assert.deepEqual(
    snapshot.series
      .slice(-2)
      .map((r: { device: string }) => r.device)
      .includes('dev-5'),
    false,
  );
  assert.equal(two.alertsClosedOnRestore, 1);
  assert.equal(fewer.openCount, 0);

  const next = resumed.ingest('gw', []);
  assert.deepEqual(
    next.map((a) => `${a.state} ${a.device} ${a.detector}`),
    [`resolved dev-5 ${MISSING_DATA}`],
  );
  assert.match(next[0]!.message, /no longer watched/);
  assert.ok(next[0]!.at >= ends[150]!, 'closed at the event time the checkpoint had reached');
  assert.deepEqual(resumed.ingest('gw', []), [], 'sent once');
});

test("a series' alerts are the lifecycle's decisions on every verdict of its detector, at any sensitivity (skipping quiet points skips no opening)", () => {
  for (const sensitivity of [1, 3, 9]) {
    const tuned = ProcessorConfigSchema.parse({ detection: { sensitivity } });
    const reference = new AlertLifecycle(tuned.alerts);
    const expected: AlertEvent[] = [];
    const threshold = openThreshold(sensitivity);
    const d = new Detection(
      detectorPlans(tuned.detection),
      new AlertLifecycle(tuned.alerts),
      1000,
      undefined,
      (p, verdict) => {
        const a = reference.observe(p.device, p.metric, 'ensemble', verdict, p.ts, threshold);
        if (a) expected.push(a);
      },
    );
    const alerts = inBatches(d, fleet(), 50).filter((a) => a.detector === 'ensemble');
    assert.ok(alerts.length > 0, `sensitivity ${sensitivity}: the fleet raises alerts`);
    assert.deepEqual(brief(alerts), brief(expected), `sensitivity ${sensitivity}`);
  }
});
