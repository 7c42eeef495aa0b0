import {
  Batcher,
  countedWindowSink,
  IngestPipeline,
  ingestPipelineOptions,
  WindowEngine,
  windowEngineOptions,
  agentCounterHelp,
  type AgentCounter,
  type WriteAheadLog,
} from '@tributary/edge-agent';
import { AgentConfigSchema, encodeBatch, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ManualClock, ProblemReport, type Clock } from '@tributary/runtime';

export const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

/** The agent's core as the agent wires it (decode, validate, filters, windows, batcher), with the uplink replaced by a counter. */
export interface Core {
  readonly pipeline: IngestPipeline;
  readonly windows: WindowEngine;
  readonly counters: Counters<AgentCounter>;
  readonly clock: ManualClock;
  /** Windows emitted, and batches encoded (then thrown away). */
  readonly out: { windows: number; batches: number; bytes: number };
  flush(): void;
}

export interface CoreOptions {
  readonly maxSeries: number;
  readonly maxMessagesPerS?: number;
  /** Stateful filters as well as the range filter (their state is part of the memory figures). */
  readonly statefulFilters?: boolean;
  readonly clock?: Clock;
  /** Encode sealed batches as the uplink would (JSON), default true. */
  readonly encodeBatches?: boolean;
  /** Log every accepted reading here, as the agent does with its write-ahead log. */
  readonly wal?: WriteAheadLog;
}

export function makeCore(o: CoreOptions): Core {
  const config = AgentConfigSchema.parse({
    agentId: 'bench',
    sources: [{ type: 'file', path: '-' }],
    filters: {
      temperature: [
        { type: 'range', min: -40, max: 85 },
        ...(o.statefulFilters ? [{ type: 'dedupe', windowSize: 64, maxSeries: o.maxSeries }] : []),
      ],
      humidity: [
        { type: 'range', min: 0, max: 100 },
        ...(o.statefulFilters ? [{ type: 'deadband', delta: 0, heartbeatMs: 60_000, maxSeries: o.maxSeries }] : []),
      ],
    },
    windows: { lengthMs: 60_000, allowedLatenessMs: 5_000, maxSeries: o.maxSeries, onSeriesLimit: 'evict-lru' },
    intake: o.maxMessagesPerS === undefined ? {} : { maxMessagesPerS: o.maxMessagesPerS },
    uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1' },
  });
  const counters = new Counters<AgentCounter>(agentCounterHelp);
  const clock = new ManualClock(T0);
  const out = { windows: 0, batches: 0, bytes: 0 };
  let seq = 0;
  const batcher = new Batcher(config.batch.maxWindows, config.batch.maxDelayMs, (ws: WindowResult[]) => {
    out.batches++;
    if (o.encodeBatches === false) return;
    out.bytes += encodeBatch({
      v: 1,
      agent: 'bench',
      seq: seq++,
      sentAt: clock.now(),
      windows: ws,
      counters: counters.snapshot(),
    }).length;
  });
  const windows = new WindowEngine(
    windowEngineOptions(config.windows),
    countedWindowSink(counters, (r) => {
      out.windows++;
      batcher.add(r, clock.now());
    }),
  );
  const pipeline = new IngestPipeline(
    ingestPipelineOptions(config, {
      windows,
      clock: o.clock ?? clock,
      counters,
      problems: new ProblemReport(),
      log: o.wal,
    }),
  );
  return {
    pipeline,
    windows,
    counters,
    clock,
    out,
    flush: () => {
      windows.flush();
      batcher.flush();
    },
  };
}

/** A telemetry payload as a device sends it: two values, so two readings. */
export function payload(device: number, seq: number, ts: number): Buffer {
  const t = 20 + ((device * 7 + seq) % 50) / 10;
  const h = 40 + ((device * 3 + seq) % 200) / 10;
  return Buffer.from(
    `{"device":"th-${String(device).padStart(5, '0')}","ts":${ts},"seq":${seq},"values":{"temperature":${t},"humidity":${h}}}`,
  );
}

/** `count` payloads from `devices` devices in turn, event time advancing `stepMs` per message from `startMs`. */
export function payloads(count: number, devices: number, startMs: number, stepMs: number): Buffer[] {
  const out = new Array<Buffer>(count);
  for (let i = 0; i < count; i++)
    out[i] = payload(i % devices, Math.floor(i / devices), startMs + Math.floor(i * stepMs));
  return out;
}

/** RSS and heap after a full GC (needs --expose-gc), in bytes. */
export function measureMemory(): { rss: number; heapUsed: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}
