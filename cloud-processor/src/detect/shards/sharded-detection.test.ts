import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema, type AlertEvent } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { AlertLifecycle } from '../../alerts/lifecycle.js';
import { JsonText } from '../../state/checkpoint.js';
import { detectorPlans } from '../registry.js';
import { sensorWindows } from '../synthetic.js';
import { LocalDetection, type DetectionRunner } from '../detection-runner.js';
import { Detection, MACHINE, MISSING_DATA, OUT_OF_RANGE, type SeriesInput } from '../detection.js';
import { DetectionPool } from './pool.js';
import { ShardedDetection } from './sharded-detection.js';

const config = ProcessorConfigSchema.parse({ detection: { metrics: { pressure: { detector: 'robust-zscore' } } } });
const W = 300_000;
const AGENTS = ['gw-a', 'gw-b', 'gw-c'];
const METRICS = ['temperature', 'pressure', 'humidity'];
const DEVICES = 15;
/** Windows in which dev-3, dev-8 and dev-13 (machines) run away from their usual state: every metric at once. */
const MACHINE_FAULT = [180, 200];

/**
 * Three agents' batches, period by period: 15 devices of three metrics each (45 series, one metric
 * with its own detector), judged per series and per device (the machine detector, on by
 * default): spikes, readings out of range, a device silent for a while, one metric of another
 * silent for a while and one that stops for good, machines whose every metric moves together;
 * some batches come shuffled, some without a watermark (an agent that sends none).
 */
function batches(): Array<{ agent: string; points: SeriesInput[]; complete: number | undefined }> {
  const series = Array.from({ length: DEVICES * METRICS.length }, (_, s) => {
    const d = Math.floor(s / METRICS.length);
    const m = s % METRICS.length;
    const windows = sensorWindows({
      seed: 100 + s,
      windows: 260,
      dailyAmplitude: 3,
      noise: 0.1,
      readingsPerWindow: 20,
      fault: (w, r, x) =>
        d % 5 === 3 && w >= MACHINE_FAULT[0]! && w < MACHINE_FAULT[1]!
          ? x + 4
          : (d + m) % 7 === 2 && w % 61 === 40 && r === 3
            ? x + 8
            : x,
      missing: (w) =>
        (d === 4 && w >= 150 && w < 165) ||
        (d === 7 && m === 0 && w >= 96 && w < 118) ||
        (d === 11 && m === 2 && w >= 200),
    });
    return windows.map((p, w): SeriesInput => {
      const at = { device: `dev-${d}`, metric: METRICS[m]!, lengthMs: W };
      // Windows whose every reading was out of range (count 0, no value) cross to the workers too.
      if (d === 9 && m === 1 && w >= 200 && w < 230)
        return { ...at, ts: p.ts, count: 0, value: NaN, min: NaN, max: NaN, stddev: NaN, outOfRange: 1 };
      return { ...p, ...at, outOfRange: d === 9 && m === 0 && p.ts % (37 * W) === 0 ? 2 : 0 };
    });
  });
  const t0 = Math.min(...series.map((s) => s[0]!.ts));
  const out: Array<{ agent: string; points: SeriesInput[]; complete: number | undefined }> = [];
  for (let w = 0; w < 260; w++) {
    const end = t0 + w * W;
    for (const [a, agent] of AGENTS.entries()) {
      // Each device behind one agent (dev-0, dev-3, … behind gw-a).
      const points = series.flatMap((s, i) =>
        Math.floor(i / METRICS.length) % AGENTS.length === a ? s.filter((p) => p.ts === end) : [],
      );
      if (w % 9 === 4) points.reverse();
      // Batches without a watermark now and then, and for a while in a row (horizon: the newest point's start).
      out.push({ agent, points, complete: w % 13 === 6 || (w >= 100 && w < 112) ? undefined : end });
    }
  }
  return out;
}

/** Made once: detection takes the points without changing them. */
const BATCHES = batches();

const pool = (n: number): DetectionPool => new DetectionPool(n, silentLogger);

function local(): LocalDetection {
  const lifecycle = new AlertLifecycle(config.alerts);
  return new LocalDetection(
    new Detection(detectorPlans(config.detection), lifecycle, config.detection.maxSeries),
    lifecycle,
  );
}

function sharded(p: DetectionPool): ShardedDetection {
  return new ShardedDetection(p, {
    detection: config.detection,
    alerts: config.alerts,
    maxSeries: config.detection.maxSeries,
    maxQueuedBatches: 4,
    onEvicted: () => undefined,
    onDropped: () => undefined,
    onMetricsLeftOut: () => undefined,
  });
}

/** Each batch's alerts through `first`; at `restartAt` its state goes through a checkpoint (JSON lines) into `then()`. */
async function run(
  first: DetectionRunner,
  then?: { restartAt: number; next: () => DetectionRunner },
): Promise<AlertEvent[][]> {
  const alerts: AlertEvent[][] = [];
  let d = first;
  for (const [i, b] of BATCHES.entries()) {
    if (i === then?.restartAt) {
      const lines: string[] = [];
      for await (const part of d.snapshotParts())
        lines.push(...(part instanceof JsonText ? part.text.split('\n').filter(Boolean) : [JSON.stringify(part)]));
      await d.close();
      d = then.next();
      assert.ok(await d.restoreParts(lines.map((l) => JSON.parse(l) as unknown)));
    }
    // Several batches in flight at once, as the processor hands them on.
    await d.room();
    alerts.push(await d.ingest(b.agent, b.points, b.complete));
  }
  await d.close();
  return alerts;
}

/** Each batch's alerts in a canonical order (the order within a batch is the runner's), and each alert's transitions in the order they came. */
const canonical = (batches: AlertEvent[][]): string[][] =>
  batches.map((alerts) => alerts.map((a) => JSON.stringify(a)).sort());
function transitions(batches: AlertEvent[][]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const a of batches.flat()) by.set(a.id, [...(by.get(a.id) ?? []), `${a.state}@${a.at}`]);
  return by;
}

test('one worker raises exactly the alerts detection in this thread raises, in the same order', async (t) => {
  const one = pool(1);
  t.after(() => one.close());
  const inThread = await run(local());
  assert.ok(inThread.flat().filter((a) => a.state === 'opened').length >= 5, 'the fleet raises alerts');
  const kinds = new Set(inThread.flat().map((a) => a.detector));
  for (const kind of ['ensemble', MISSING_DATA, OUT_OF_RANGE, MACHINE])
    assert.ok(
      kinds.has(kind),
      `of several kinds (a metric's detector, silence, out of range, machines judged as a whole): ${kind}`,
    );
  const machines = inThread.flat().filter((a) => a.detector === MACHINE && a.state === 'opened');
  // Each machine whose metrics ran away together is flagged as it happens (the machine detector also
  // speaks after some gaps, a matter for detection, not for where it runs).
  const t0 = Math.min(...BATCHES.flatMap((b) => b.points.map((p) => p.ts)));
  const atFault = machines.filter((a) => a.at === t0 + MACHINE_FAULT[0]! * W).map((a) => a.device);
  assert.deepEqual(
    [...new Set(atFault)].sort(),
    ['dev-13', 'dev-3', 'dev-8'],
    'each machine whose metrics ran away together',
  );
  assert.deepEqual(await run(sharded(one)), inThread);
});

test('N workers raise the same alerts as one, each alert’s transitions in order, the same on every run', async (t) => {
  const three = pool(3);
  t.after(() => three.close());
  const inThread = await run(local());
  const first = await run(sharded(three));
  assert.deepEqual(canonical(first), canonical(inThread));
  assert.deepEqual(transitions(first), transitions(inThread));
  assert.deepEqual(await run(sharded(three)), first, 'deterministic for a worker count');
});

test('batches handed on in one turn reach each worker in one message, and each batch gets its own alerts from every worker, as in this thread', async (t) => {
  const two = pool(2);
  t.after(() => two.close());
  const inThread = await run(local());
  const d = sharded(two);
  const alerts: AlertEvent[][] = [];
  // Four batches at a time (maxQueuedBatches), handed on in one turn as the processor does when
  // several arrive together; each answer is awaited apart, so one that came with another batch's
  // alerts, or before a worker had judged all of its points, would show.
  for (let i = 0; i < BATCHES.length; i += 4) {
    const group = BATCHES.slice(i, i + 4).map((b) => d.ingest(b.agent, b.points, b.complete));
    for (const answer of group) alerts.push(await answer);
  }
  await d.close();
  assert.deepEqual(canonical(alerts), canonical(inThread));
  assert.deepEqual(transitions(alerts), transitions(inThread));
  // One create and the ingests of each group of four batches: a message per worker for each (the close's drop aside).
  const groups = Math.ceil(BATCHES.length / 4);
  assert.equal(two.posted.requests, 2 * (1 + BATCHES.length + 1));
  assert.equal(two.posted.messages, 2 * (groups + 1));
});

test('a checkpoint restores into another number of workers with the same alerts after it, series and devices each in its worker', async (t) => {
  const [one, two, three] = [pool(1), pool(2), pool(3)];
  t.after(() => Promise.all([one.close(), two.close(), three.close()]));
  const straight = await run(local());
  const openAt = (batch: number, detector: string): string[] => {
    const open = new Set<string>();
    for (const a of straight.slice(0, batch).flat())
      if (a.detector === detector) a.state === 'resolved' ? open.delete(a.id) : open.add(a.id);
    return [...open];
  };
  // While dev-4 is silent (its missing-data alerts open); and while the machines are away from their usual state (device alerts open, baselines frozen):
  // within acceptAfterMs (10 minutes, two windows) of the fault, when their state is accepted and the alerts resolve.
  for (const [restartAt, detector] of [
    [3 * 155, MISSING_DATA],
    [3 * (MACHINE_FAULT[0]! + 1), MACHINE],
  ] as const) {
    assert.ok(openAt(restartAt, detector).length >= 2, `${detector} alerts open at the checkpoint`);
    const threeToOne = await run(sharded(three), { restartAt, next: () => sharded(one) });
    const oneToThree = await run(local(), { restartAt, next: () => sharded(three) });
    const threeToTwo = await run(sharded(three), { restartAt, next: () => sharded(two) });
    const twoToThread = await run(sharded(two), { restartAt, next: local });
    for (const [name, moved] of Object.entries({ threeToOne, oneToThree, threeToTwo, twoToThread }))
      assert.deepEqual(canonical(moved), canonical(straight), `${name} at batch ${restartAt}`);
  }
});
