import type { HeapInfo } from 'node:v8';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Logger } from '@tributary/runtime';
import type { ShardReply, ShardRequest, ShardRequests } from './protocol.js';

/** Thrown (as a rejection) for requests a worker thread could not answer: it died, or the pool closed. */
export class WorkerGoneError extends Error {
  readonly code = 'DETECTION_WORKER_GONE';
}

/** Thrown for a request the worker answered with an error (a bug in detection, as when it throws in this thread). */
export class ShardError extends Error {
  readonly code = 'DETECTION_SHARD';
}

interface Slot {
  worker: Worker;
  readonly pending: Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>;
  /** Requests of this turn of the event loop not sent yet, and the buffers each transfers. */
  outbox: ShardRequests;
  transfers: ArrayBuffer[][];
}

const WORKER_FILE = new URL('./worker-thread.js', import.meta.url);

/**
 * A detection worker's young generation (V8's new space: two semi-spaces and the young large
 * objects), in MB. Node's default lets it grow to 48 MB an isolate (16 MB semi-spaces), which a
 * worker fills with each batch's short-lived verdicts and messages: the resident memory of two
 * workers, for no state they keep. 12 MB (4 MB semi-spaces) collects them sooner: at 10,000
 * series (bench:cloud, alternated on the shared 2-core machine) the workers' heaps peaked at 186–198
 * MB committed (206–237 with the default) and the process at 588–613 MB resident (603–652), for
 * 22.5–23.4 µs of CPU a window (21.6–24.1). Smaller still cost CPU: V8's flag
 * `--max-semi-space-size=4` for every isolate, 26.5–29 µs.
 */
export const YOUNG_GENERATION_MB = 12;

/**
 * The most heap (V8's old generation) one series' detector state takes, with room to spare:
 * `state-size.js 200 4400` (every history full: three days of minute windows) measures 19.3 kB of
 * heap a series with the default ensemble and the device detector (and 15.7 kB of typed arrays,
 * outside the heap); a third of this.
 */
export const HEAP_BYTES_PER_SERIES = 64 * 1024;

/**
 * The least old generation a detection worker is given, in MB. V8 lets an isolate's old
 * generation grow to up to 4 times what the last full collection left before it collects again
 * when the isolate may grow to 2 GB or more (V8 HeapController's MaxGrowingFactor), as a worker
 * may by default; at 1024 MB it grows to 1.6 times at most. With their share of the default
 * detection.maxSeries every history full, the workers' state stays well under it.
 */
export const MIN_OLD_GENERATION_MB = 1024;

/** Above this V8 grows an isolate's old generation as freely as without a limit: none is set. */
const FREE_GROWTH_MB = 2048;

/**
 * A detection worker's resource limits when it holds at most `series` series: the young generation
 * of YOUNG_GENERATION_MB, and an old generation sized for that many series' state (at least
 * MIN_OLD_GENERATION_MB) so that V8 collects garbage before it doubles the live heap — unless that
 * size is beyond what changes V8's growth (then V8's own limit, from the machine's memory, stays).
 * A worker past its limit dies and is started again, counted (detection_workers_restarted).
 */
export function workerResourceLimits(series: number): ResourceLimits {
  const needed = Math.max(MIN_OLD_GENERATION_MB, Math.ceil((series * HEAP_BYTES_PER_SERIES) / (1024 * 1024)));
  return {
    maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
    ...(needed < FREE_GROWTH_MB ? { maxOldGenerationSizeMb: needed } : {}),
  };
}

/**
 * The detection worker threads of one processor, shared by all its partitions' ShardedDetection:
 * requests to worker i are answered in the order they were sent. A worker that dies (an uncaught
 * error, out of memory) fails its pending requests, is started again at once and gets its shards
 * created afresh (their series start over; `onRestart` counts and logs it); `close` ends them all.
 */
export class DetectionPool {
  /** Started on first use: a processor constructed and never started has no threads. */
  private readonly slots: Array<Slot | undefined> = [];
  /** Every shard's create request, to make it again in a restarted worker. */
  private readonly creates = new Map<number, Extract<ShardRequest, { op: 'create' }>>();
  private nextReq = 1;
  private nextId = 1;
  private closed = false;
  /** Whether a send of the outboxes is due (at the end of this turn of the event loop). */
  private sendDue = false;
  /** Messages posted to the workers, and requests in them (for tests and bench:cloud: how well they coalesce). */
  readonly posted = { messages: 0, requests: 0 };

  constructor(
    readonly size: number,
    private readonly log: Logger,
    private readonly onRestart: (worker: number, reason: string) => void = () => undefined,
    private readonly resourceLimits: ResourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  ) {
    for (let i = 0; i < size; i++) this.slots.push(undefined);
  }

  private readonly restartListeners = new Set<(worker: number) => void>();

  /** Calls `listener` with a worker's index after it was started again (its shards hold nothing now). */
  onWorkerRestart(listener: (worker: number) => void): () => void {
    this.restartListeners.add(listener);
    return () => this.restartListeners.delete(listener);
  }

  /** A new shard id (unique in this pool). */
  newId(): number {
    return this.nextId++;
  }

  /** Creates shard `id` in every worker. */
  create(r: Extract<ShardRequest, { op: 'create' }>): Promise<unknown> {
    this.creates.set(r.id, r);
    return Promise.all(this.slots.map((_, i) => this.request(i, r)));
  }

  /** Drops shard `id` from every worker. */
  drop(id: number): Promise<unknown> {
    this.creates.delete(id);
    return Promise.all(this.slots.map((_, i) => this.request(i, { op: 'drop', id }).catch(() => undefined)));
  }

  /**
   * Sends a request to worker `i`; resolves with its answer. Requests made in one turn of the
   * event loop go to their worker in one message, at the end of the turn (setImmediate), in the
   * order they were made; each still resolves with its own answer.
   */
  request(i: number, r: ShardRequest, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.closed) return Promise.reject(new WorkerGoneError('detection workers closed'));
    const slot = (this.slots[i] ??= this.start(i));
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      slot.pending.set(req, { resolve, reject });
      slot.outbox.push({ ...r, req });
      slot.transfers.push(transfer);
      if (!this.sendDue) {
        this.sendDue = true;
        setImmediate(() => this.send());
      }
    });
  }

  /**
   * Posts each worker's outbox as one message. A message that cannot be sent (a request that
   * cannot be cloned) is sent again one request at a time, so that request fails alone, as it did
   * when each request was its own message, and every other is still sent.
   */
  private send(): void {
    this.sendDue = false;
    for (const slot of this.slots) {
      if (slot === undefined || slot.outbox.length === 0) continue;
      const { outbox, transfers } = slot;
      slot.outbox = [];
      slot.transfers = [];
      try {
        slot.worker.postMessage(outbox, transfers.length === 1 ? transfers[0] : transfers.flat());
        this.posted.messages++;
        this.posted.requests += outbox.length;
      } catch {
        for (let k = 0; k < outbox.length; k++) this.sendAlone(slot, outbox[k]!, transfers[k]!);
      }
    }
  }

  private sendAlone(slot: Slot, r: ShardRequests[number], transfer: ArrayBuffer[]): void {
    try {
      slot.worker.postMessage([r], transfer);
      this.posted.messages++;
      this.posted.requests++;
    } catch (err) {
      const p = slot.pending.get(r.req);
      slot.pending.delete(r.req);
      p?.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Each started worker's V8 heap statistics (a worker not started yet is left out). */
  heapStatistics(): Promise<HeapInfo[]> {
    const started = this.slots.flatMap((s, i) => (s === undefined ? [] : [i]));
    return Promise.all(started.map((i) => this.request(i, { op: 'heap' }) as Promise<HeapInfo>));
  }

  /** Ends every worker; pending requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }

  private start(i: number): Slot {
    const worker = new Worker(WORKER_FILE, { resourceLimits: this.resourceLimits, name: `tributary-detection-${i}` });
    const slot: Slot = { worker, pending: new Map(), outbox: [], transfers: [] };
    worker.on('message', (reply: ShardReply) => {
      const p = slot.pending.get(reply.req);
      if (p === undefined) return;
      slot.pending.delete(reply.req);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new ShardError(reply.error));
    });
    let reason = 'exited';
    worker.on('error', (err) => (reason = err.message));
    worker.on('exit', (code) => {
      const gone = new WorkerGoneError(`detection worker ${i} ${reason} (exit code ${code})`);
      for (const p of slot.pending.values()) p.reject(gone);
      slot.pending.clear();
      // Requests not sent yet were among the pending: failed with them, never sent.
      slot.outbox = [];
      slot.transfers = [];
      if (this.closed) return;
      this.log.error({ worker: i, reason, code }, 'detection worker died: started again, its series start afresh');
      this.onRestart(i, reason);
      const next = this.start(i);
      this.slots[i] = next;
      for (const r of this.creates.values()) void this.request(i, r).catch(() => undefined);
      for (const listener of this.restartListeners) listener(i);
    });
    return slot;
  }
}
