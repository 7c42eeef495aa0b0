import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AgentConfigSchema, hasReadings, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ManualClock, ProblemReport } from '@tributary/runtime';
import { Batcher } from '../core/batcher.js';
import { FilterChains } from '../core/filters/registry.js';
import { agentCounterHelp, IngestPipeline, type AgentCounter } from '../core/pipeline.js';
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
}

/** Five devices, one 30 s fast, readings out of order within the lateness, over about 12 windows. */
function stream(): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < 600; i++) {
    const now = T0 + i * 200;
    const device = `d${i % 5}`;
    out.push({ device, ts: now + (device === 'd4' ? 30_000 : 0) - ((i * 7) % 900), now, value: i });
  }
  return out;
}

/** An agent's parts as it wires them (pipeline → engine → batcher → sealer → "spool", with the log), the spool a list. */
function parts(dir: string, spool: WindowResult[][]) {
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
  const windows = new WindowEngine(options, {
    window: (w) => batcher!.add(w, clock.now()),
    evicted: () => undefined,
    outOfRangeOnly: () => undefined,
  });
  const sealer = new Sealer({ config, windows, uplink, wal, counters, clock, sealGathered: () => batcher!.flush() });
  batcher = new Batcher(4, 1_000_000, (ws) => sealer.sealed(ws));
  const pipeline = new IngestPipeline({
    filters: new FilterChains({}),
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
      pipeline.ingestTelemetry({ device: r.device, ts: r.ts, values: { t: r.value } });
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
function uncrashed(all: readonly Reading[]): WindowResult[][] {
  const spool: WindowResult[][] = [];
  const ref = parts(mkdtempSync(join(tmpdir(), 'tributary-wal-ref-')), spool);
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
) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-wal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool: WindowResult[][] = [];
  const a = parts(dir, spool);
  a.feed(all.slice(0, crashAt));
  await new Promise<void>((resolve) => a.wal.afterCommit(resolve));
  a.wal.close();
  meddle(spool);
  const spooledBefore = spool.length;
  const b = parts(dir, spool);
  const recovery = recover(b.wal, b.windows, spool.length);
  b.feed(all.slice(crashAt));
  b.stop();
  return { spool, spooledBefore, recovery };
}

/** The latest emission of every window, as `device/end` → count and sum. */
function latest(spool: readonly WindowResult[][]): Map<string, string> {
  const out = new Map<string, string>();
  for (const batch of spool)
    for (const w of batch) out.set(`${w.device}/${w.end - T0}`, `n${w.count} sum${hasReadings(w) ? w.sum : '-'}`);
  return out;
}

for (const crashAt of [90, 180, 333, 451, 599]) {
  test(`a crash after reading ${crashAt}: the restarted engine has back exactly the windows not yet spooled, nothing spooled twice`, async (t) => {
    const all = stream();
    const { spool, spooledBefore, recovery } = await crashAndRecover(t, all, crashAt);
    assert.equal(recovery.lost, 0);
    assert.ok(
      spooledBefore > 0 && recovery.readings > 0,
      `a real test: ${spooledBefore} batches spooled before, ${recovery.readings} readings put back`,
    );
    assert.deepEqual(latest(spool), latest(uncrashed(all)), 'every window as without the crash');
    const keys = spool.flat().map((w) => `${w.device}/${w.end}`);
    assert.deepEqual(
      keys.filter((k, i) => keys.indexOf(k) !== i),
      [],
      'no window sent twice',
    );
  });
}

test('a marker whose batch did not reach the spool is ignored: that batch is rebuilt from the log', async (t) => {
  const all = stream();
  // The crash came after the last marker was durable, before its batch's append.
  const { spool } = await crashAndRecover(t, all, 300, (spooled) => void spooled.pop());
  assert.deepEqual(latest(spool), latest(uncrashed(all)));
});
