import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AgentConfigSchema, hasReadings, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ManualClock, ProblemReport } from '@tributary/runtime';
import { Batcher } from '../core/batcher.js';
import { FilterChains } from '../core/filters/registry.js';
import { agentCounterHelp, IngestPipeline, messageOrigin, type AgentCounter } from '../core/pipeline.js';
import { WindowEngine, type WindowEngineOptions } from '../core/window-engine.js';
import { Sealer } from '../sealing.js';
import type { Delivery } from '../uplink/delivery.js';
import { recover } from './recovery.js';
import { WriteAheadLog } from './write-ahead-log.js';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 10_000);
const options: WindowEngineOptions = {
  lengthMs: 10_000,
  slideMs: 10_000,
  allowedLatenessMs: 1_000,
  idleAfterMs: 60_000,
  maxSeries: 1_000,
  onSeriesLimit: 'reject-new',
  lateReadings: 'drop',
  lateHorizonMs: 0,
  maxPanesPerSeries: 16,
  sketchK: 16,
};
const config = AgentConfigSchema.parse({
  agentId: 'gw',
  sources: [{ type: 'file', path: '-' }],
  uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1' },
});

interface Reading {
  readonly device: string;
  readonly ts: number;
  readonly now: number;
  readonly value: number;
  /** A second metric of the same message, after `t`. */
  readonly h?: number;
  /** The MQTT message's identity (see messageOrigin), or 0. */
  readonly origin?: number;
}

/** Beyond the range filter's bound on `t` (0 to 10,000): removed, and counted in the window's outOfRange. */
const GLITCH = 65_535;

/**
 * Five devices, one 30 s fast, readings out of order within the lateness, over about 12 windows;
 * one reading in eleven a glitch, and a sixth device that sends nothing else.
 */
function stream(): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < 600; i++) {
    const now = T0 + i * 200;
    const device = `d${i % 5}`;
    const ts = now + (device === 'd4' ? 30_000 : 0) - ((i * 7) % 900);
    out.push({ device, ts, now, value: i % 11 === 5 ? GLITCH : i });
    if (i % 6 === 1) out.push({ device: 'glitchy', ts: now, now, value: GLITCH });
  }
  return out;
}

/** An agent's parts as it wires them (pipeline → engine → batcher → sealer → "spool", with the log), the spool a list. */
function parts(dir: string, spool: WindowResult[][], engineOptions = options) {
  const clock = new ManualClock(T0);
  const counters = new Counters<AgentCounter>(agentCounterHelp);
  const wal = new WriteAheadLog({ dir, maxWalBytes: 1 << 20, segmentBytes: 4_096, commitIntervalMs: 1 }, () =>
    assert.fail('nothing unprotected'),
  );
  wal.open();
  const uplink = {
    nextSeq: () => spool.length,
    epoch: 1,
    enqueue: (_meta: unknown, payload: string) =>
      spool.push((JSON.parse(payload) as { windows: WindowResult[] }).windows),
  } as unknown as Delivery;
  // Small batches: seals of several batches at once, and segments that roll and are trimmed.
  let batcher: Batcher | undefined;
  const windows = new WindowEngine(engineOptions, {
    window: (w) => batcher!.add(w, clock.now()),
    evicted: () => undefined,
    outOfRangeOnly: () => undefined,
  });
  const sealer = new Sealer({ config, windows, uplink, wal, counters, clock, sealGathered: () => batcher!.flush() });
  batcher = new Batcher(4, 1_000_000, (ws) => sealer.sealed(ws));
  const pipeline = new IngestPipeline({
    filters: new FilterChains({ t: [{ type: 'range', min: 0, max: 10_000 }] }),
    windows,
    clock,
    maxFutureMs: 60_000,
    counters,
    problems: new ProblemReport(),
    log: wal,
  });
  const feed = (rs: readonly Reading[]): void => {
    for (const r of rs) {
      clock.set(r.now);
      const values = r.h === undefined ? { t: r.value } : { t: r.value, h: r.h };
      pipeline.ingestTelemetry({ device: r.device, ts: r.ts, values }, r.origin);
      if (r.value % 7 === 0) windows.tick(r.now);
      sealer.drain();
    }
  };
  const stop = (): void => {
    windows.flush();
    batcher!.flush();
    sealer.drain();
    wal.close();
  };
  return { windows, wal, feed, stop };
}

/** What a run without a crash sends: the reference. */
function uncrashed(all: readonly Reading[], engineOptions = options): WindowResult[][] {
  const spool: WindowResult[][] = [];
  const ref = parts(mkdtempSync(join(tmpdir(), 'tributary-wal-ref-')), spool, engineOptions);
  ref.feed(all);
  ref.stop();
  return spool;
}

/**
 * Feeds `all` up to `crashAt`, waits until that is committed (what the sources had acknowledged),
 * then "crashes" (engine and batcher gone, files kept), lets `meddle` change the spool, recovers a
 * fresh engine from the log and feeds the rest. Returns the spool and what recovery found.
 */
async function crashAndRecover(
  t: TestContext,
  all: readonly Reading[],
  crashAt: number,
  meddle: (spool: WindowResult[][]) => void = () => undefined,
  engineOptions = options,
) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-wal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool: WindowResult[][] = [];
  const a = parts(dir, spool, engineOptions);
  a.feed(all.slice(0, crashAt));
  await new Promise<void>((resolve) => a.wal.afterCommit(resolve));
  a.wal.close();
  meddle(spool);
  const spooledBefore = spool.length;
  const b = parts(dir, spool, engineOptions);
  const recovery = recover(b.wal, b.windows, spool.length);
  b.feed(all.slice(crashAt));
  b.stop();
  return { spool, spooledBefore, recovery };
}

/** The latest emission of every window, as `device/metric/end` → count, sum and out-of-range count. */
function latest(spool: readonly WindowResult[][]): Map<string, string> {
  const out = new Map<string, string>();
  for (const batch of spool)
    for (const w of batch)
      out.set(
        `${w.device}/${w.metric}/${w.end - T0}`,
        `n${w.count} sum${hasReadings(w) ? w.sum : '-'} oor${w.outOfRange ?? 0}`,
      );
  return out;
}

for (const crashAt of [90, 180, 333, 451, 599]) {
  test(`a crash after reading ${crashAt}: the restarted engine has back exactly the windows not yet spooled, nothing spooled twice`, async (t) => {
    const all = stream();
    const { spool, spooledBefore, recovery } = await crashAndRecover(t, all, crashAt);
    assert.equal(recovery.lost, 0);
    assert.ok(
      spooledBefore > 0 && recovery.readings > 0 && recovery.outOfRange > 0,
      `a real test: ${spooledBefore} batches spooled before, ${recovery.readings} readings and ${recovery.outOfRange} glitches put back`,
    );
    const reference = latest(uncrashed(all));
    assert.ok(
      [...reference.values()].some((w) => /^n0 sum- oor[1-9]/.test(w)) &&
        [...reference.values()].some((w) => /^n[1-9].* oor[1-9]/.test(w)),
      'windows of glitches only and mixed ones',
    );
    assert.deepEqual(latest(spool), reference, 'every window as without the crash, its outOfRange included');
    const keys = spool.flat().map((w) => `${w.device}/${w.end}`);
    assert.deepEqual(
      keys.filter((k, i) => keys.indexOf(k) !== i),
      [],
      'no window sent twice',
    );
  });
}

test('a window of glitches only, open at the crash, is sent after it as it would have been (count 0, its outOfRange); its message re-delivered is known', async (t) => {
  const glitches = [1, 2, 3].map((k) => ({
    device: 'glitchy',
    ts: T0 + k * 1_000,
    now: T0 + 5_000 + k,
    value: GLITCH,
    origin: messageOrigin(0, k),
  }));
  // After the restart, a reading in range two windows on closes the first.
  const closer = { device: 'glitchy', ts: T0 + 25_000, now: T0 + 25_000, value: 7 };
  const { spool, recovery } = await crashAndRecover(t, [...glitches, closer], glitches.length);
  assert.equal(recovery.outOfRange, 3);
  assert.equal(recovery.lost, 0);
  const first = spool.flat().filter((w) => w.device === 'glitchy' && w.end === T0 + 10_000);
  assert.deepEqual(
    first.map((w) => ({ count: w.count, outOfRange: w.outOfRange, values: hasReadings(w) })),
    [{ count: 0, outOfRange: 3, values: false }],
  );
  assert.equal(
    recovery.logged.has(messageOrigin(0, 2), { device: 'glitchy', ts: T0 + 2_000, values: { t: GLITCH } }),
    true,
    'a broker re-delivering it after the crash would not have it counted twice',
  );
});

test('a marker whose batch did not reach the spool is ignored: that batch is rebuilt from the log', async (t) => {
  const all = stream();
  // The crash came after the last marker was durable, before its batch's append.
  const { spool } = await crashAndRecover(t, all, 300, (spooled) => void spooled.pop());
  assert.deepEqual(latest(spool), latest(uncrashed(all)));
});

test('at maxSeries a message replays in the order it came: its glitch noted before its reading evicts, as live (evict-lru)', async (t) => {
  const bounded: WindowEngineOptions = { ...options, maxSeries: 2, onSeriesLimit: 'evict-lru' };
  // One free slot when b's message comes: live, its glitch on t takes it (a note never evicts), then h evicts a/h.
  const all: Reading[] = [
    { device: 'a', ts: T0 + 1_000, now: T0 + 1_000, value: 1 },
    { device: 'b', ts: T0 + 2_000, now: T0 + 2_000, value: GLITCH, h: 5 },
  ];
  const { spool, recovery } = await crashAndRecover(t, all, all.length, undefined, bounded);
  assert.deepEqual({ lost: recovery.lost, outOfRange: recovery.outOfRange }, { lost: 0, outOfRange: 1 });
  const reference = latest(uncrashed(all, bounded));
  assert.equal(reference.get('b/t/10000'), 'n0 sum- oor1', "a real test: b's glitch has a window without the crash");
  assert.deepEqual(latest(spool), reference);
});
