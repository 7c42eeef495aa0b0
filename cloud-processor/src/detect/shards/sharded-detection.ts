import type { AlertEvent, DetectionConfig } from '@tributary/firmware-schemas';
import type { LifecycleOptions, LifecycleSnapshot } from '../../alerts/lifecycle.js';
import { JsonText } from '../../state/checkpoint.js';
import type { DetectionRunner, RestoreReport } from '../detection-runner.js';
import type { DetectionSnapshot, DeviceSnapshot, SeriesInput, SeriesSnapshot } from '../detection.js';
import { AlertsMirror } from './alerts-mirror.js';
import { packPoints, shardOf } from './columns.js';
import type { DetectionPool } from './pool.js';
import type { Dropped, IngestAnswer, RestoreEnded, SnapshotBegun, SnapshotSlice } from './protocol.js';

/** Series or device entries a snapshot or a restore moves per message. */
const PARTS_PER_MESSAGE = 100;

export interface ShardedOptions {
  readonly detection: DetectionConfig;
  readonly alerts: LifecycleOptions;
  /** Series with state over all workers (each holds its share, rounded up). */
  readonly maxSeries: number;
  /** Batches handed to the workers and not answered yet; `room` waits beyond it. */
  readonly maxQueuedBatches: number;
  readonly onEvicted: () => void;
  readonly onDropped: (device: string, metric: string, detector: string) => void;
  /** A device's metrics of one time beyond what its device detector judges (`count` left out, the first named). */
  readonly onMetricsLeftOut: (device: string, count: number, first: string) => void;
}

/**
 * Detection spread over the pool's worker threads by device (shardOf: a hash of the device id),
 * one shard per worker: a worker holds every series of its devices, so their device detector
 * (which judges a device's metrics of one time together) sees the same rows as in one Detection.
 * Every batch goes to every worker — each gets its devices' points (often none) and the batch's
 * horizon — so each worker's agent clocks judge silence at the same boundaries one Detection of
 * all series would. The batch's alerts are worker 0's, then worker 1's, …: deterministic for a
 * worker count, each alert's transitions in order, and with one worker exactly the in-thread
 * order. Bounds: maxSeries (series, and devices) and alerts.maxOpen are split evenly over the
 * workers, so at a bound which series, device or alert goes first can differ from one
 * Detection's choice.
 */
export class ShardedDetection implements DetectionRunner {
  readonly alerts: AlertsMirror;
  private readonly id: number;
  private readonly sizes: number[];
  private queued = 0;
  private readonly waiters: Array<() => void> = [];
  private created: Promise<unknown> | undefined;
  private readonly createRequest: Parameters<DetectionPool['create']>[0];
  private readonly unlisten: () => void;

  constructor(
    private readonly pool: DetectionPool,
    private readonly o: ShardedOptions,
  ) {
    this.id = pool.newId();
    this.sizes = Array.from({ length: pool.size }, () => 0);
    this.alerts = new AlertsMirror(o.alerts.recent);
    const share = (n: number): number => Math.max(1, Math.ceil(n / pool.size));
    const { resolveAfterWindows, minOpenMs, cooldownMs, maxOpen } = o.alerts;
    // Recent transitions are kept here (the mirror), not in the workers.
    const alerts: LifecycleOptions = { resolveAfterWindows, minOpenMs, cooldownMs, maxOpen: share(maxOpen), recent: 0 };
    this.createRequest = { op: 'create', id: this.id, detection: o.detection, alerts, maxSeries: share(o.maxSeries) };
    this.unlisten = pool.onWorkerRestart((w) => {
      this.sizes[w] = 0;
      this.alerts.forget((a) => shardOf(a.device, pool.size) === w);
    });
  }

  get workers(): number {
    return this.pool.size;
  }

  get size(): number {
    return this.sizes.reduce((a, b) => a + b, 0);
  }

  ingest(agent: string, points: readonly SeriesInput[], complete: number | undefined): Promise<AlertEvent[]> {
    const shares: SeriesInput[][] = this.sizes.map(() => []);
    // The newest point decides the horizon when the batch has no watermark (as Detection.ingest).
    let newest: SeriesInput | undefined;
    for (const p of points) {
      shares[shardOf(p.device, shares.length)]!.push(p);
      if (newest === undefined || p.ts >= newest.ts) newest = p;
    }
    const horizon = complete ?? (newest ? newest.ts - newest.lengthMs : -Infinity);
    void this.create();
    const answers = shares.map((share, w) => {
      const packed = packPoints(share);
      return this.pool.request(
        w,
        { op: 'ingest', id: this.id, agent, horizon, newestLengthMs: newest?.lengthMs, points: packed },
        [packed.numbers.buffer as ArrayBuffer],
      ) as Promise<IngestAnswer>;
    });
    this.queued++;
    return Promise.all(answers)
      .then((all) => this.merge(all))
      .finally(() => {
        this.queued--;
        this.waiters.shift()?.();
      });
  }

  /** Creates the shards on first use (requests to a worker are answered in order: nothing needs to wait for it). */
  private create(): Promise<unknown> {
    if (this.created === undefined) {
      this.created = this.pool.create(this.createRequest);
      this.created.catch(() => undefined);
    }
    return this.created;
  }

  room(): Promise<void> {
    if (this.queued < this.o.maxQueuedBatches) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async *snapshotParts(): AsyncGenerator<unknown> {
    void this.create();
    const ws = this.sizes.map((_, w) => w);
    const begun = (await Promise.all(
      ws.map((w) => this.pool.request(w, { op: 'snapshot-begin', id: this.id })),
    )) as SnapshotBegun[];
    const open = new Set(ws);
    try {
      yield mergeHeaders(begun.map((b) => b.header));
      for (const w of ws) {
        for (let done = false; !done; ) {
          const slice = (await this.pool.request(w, {
            op: 'snapshot-next',
            id: this.id,
            cursor: begun[w]!.cursor,
            parts: PARTS_PER_MESSAGE,
          })) as SnapshotSlice;
          done = slice.done;
          if (done) open.delete(w);
          yield new JsonText(slice.lines);
        }
      }
    } finally {
      // A reader that stopped early (a failed write) leaves no snapshot open in a worker.
      for (const w of open)
        void this.pool.request(w, { op: 'snapshot-end', id: this.id, cursor: begun[w]!.cursor }).catch(() => undefined);
    }
  }

  async restoreParts(parts: Iterable<unknown>, replayFollows = false): Promise<RestoreReport | undefined> {
    const it = parts[Symbol.iterator]();
    const first = it.next();
    const header = first.value as Omit<DetectionSnapshot, 'series'> | undefined;
    if (first.done === true || header?.v !== 1) return undefined;
    await this.create();
    const ws = this.sizes.map((_, w) => w);
    await Promise.all(
      ws.map((w) =>
        this.pool.request(w, { op: 'restore-begin', id: this.id, agents: header.agents, resync: !replayFollows }),
      ),
    );
    const batches: Array<Array<SeriesSnapshot | DeviceSnapshot>> = ws.map(() => []);
    const flush = (w: number): Promise<unknown> =>
      this.pool.request(w, { op: 'restore-parts', id: this.id, parts: batches[w]!.splice(0) });
    for (let next = it.next(); next.done !== true; next = it.next()) {
      const part = next.value as SeriesSnapshot | DeviceSnapshot;
      // A series' part goes to the worker of its device, a device's (`machine`) to the same one.
      const device =
        typeof part === 'object' && part !== null ? ('machine' in part ? part.machine : part.device) : undefined;
      const w = typeof device === 'string' ? shardOf(device, ws.length) : 0;
      // One message at a time per worker: parsed parts are garbage as soon as they are sent.
      if (batches[w]!.push(part) >= PARTS_PER_MESSAGE) await flush(w);
    }
    await Promise.all(ws.map(flush));
    const ended = (await Promise.all(
      ws.map((w) =>
        this.pool.request(w, {
          op: 'restore-end',
          id: this.id,
          header: { v: 1, agents: header.agents, alerts: alertsOf(header.alerts, w, ws.length) },
        }),
      ),
    )) as RestoreEnded[];
    for (const [w, e] of ended.entries()) {
      this.sizes[w] = e.size;
      this.alerts.restored(e.open);
    }
    return { skipped: ended.reduce((n, e) => n + e.skipped, 0), alertsClosed: ended.reduce((n, e) => n + e.closed, 0) };
  }

  async close(): Promise<void> {
    this.unlisten();
    if (this.created !== undefined) await this.pool.drop(this.id);
  }

  private merge(all: IngestAnswer[]): AlertEvent[] {
    let alerts: AlertEvent[] = [];
    for (const [w, a] of all.entries()) {
      this.sizes[w] = a.size;
      for (let i = 0; i < a.evicted; i++) this.o.onEvicted();
      report(a.dropped, this.o.onDropped);
      for (const [device, count, first] of a.leftOut) this.o.onMetricsLeftOut(device, count, first);
      alerts = alerts.length === 0 ? a.alerts : alerts.concat(a.alerts);
    }
    this.alerts.apply(alerts);
    return alerts;
  }
}

/** Each dropped opening once to `onDropped` (the first few by name, the rest as the last of them). */
function report(dropped: Dropped, onDropped: ShardedOptions['onDropped']): void {
  for (let i = 0; i < dropped.count; i++) {
    const [device, metric, detector] = dropped.examples[Math.min(i, dropped.examples.length - 1)]!;
    onDropped(device, metric, detector);
  }
}

/** One header from the workers': every agent at the furthest boundary any worker swept, every open alert and cooldown. */
function mergeHeaders(headers: Array<Omit<DetectionSnapshot, 'series'>>): Omit<DetectionSnapshot, 'series'> {
  if (headers.length === 1) return headers[0]!;
  const agents = new Map<string, number>();
  for (const h of headers)
    for (const [agent, swept] of h.agents) agents.set(agent, Math.max(agents.get(agent) ?? -Infinity, swept));
  return {
    v: 1,
    agents: [...agents],
    alerts: { open: headers.flatMap((h) => h.alerts.open), cooldowns: headers.flatMap((h) => h.alerts.cooldowns) },
  };
}

/** The open alerts and cooldowns of a checkpoint whose devices are worker `w`'s. */
function alertsOf(alerts: LifecycleSnapshot, w: number, workers: number): LifecycleSnapshot {
  if (workers === 1) return alerts;
  // A cooldown's key is device \0 metric \0 detector.
  const mine = (key: string): boolean => shardOf(key.split('\u0000')[0] ?? '', workers) === w;
  return {
    open: alerts.open.filter((a) => shardOf(a.device, workers) === w),
    cooldowns: alerts.cooldowns.filter(([key]) => mine(key)),
  };
}
