import type { Ack, AlertEvent } from '@tributary/firmware-schemas';
import type { Counters, Logger } from '@tributary/runtime';
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg } from 'nats';
import type { PartitionState } from '../partition.js';
import type { ClusterCounter } from './counters.js';
import type { PartitionRecord } from './record.js';
import { encodeSnapshot, restoreSnapshot } from './snapshot.js';
import { FencedError, type CheckpointStore } from './store.js';
import { agentOfPartitionSubject, partitionFilter, STREAM } from './subjects.js';

export interface WorkerOptions {
  readonly partition: number;
  readonly member: string;
  readonly store: CheckpointStore;
  readonly js: JetStreamClient;
  /** Fresh state whose alert transitions go to the given callback. */
  readonly createState: (onAlert: (alert: AlertEvent) => void) => PartitionState;
  /** Sends acks and alert transitions whose batches the position record now covers. */
  readonly deliver: (acks: readonly Ack[], alerts: readonly AlertEvent[]) => void;
  /** Called once when another owner fenced this one out (a record write was refused). */
  readonly onFenced: () => void;
  readonly maxUncommitted: number;
  readonly counters: Counters<ClusterCounter>;
  readonly log: Logger;
}

/** A batch read from the stream, until the position record covers it. */
interface Entry {
  readonly seq: number;
  settled: Promise<void>;
  done: boolean;
  failed: boolean;
  ack: Ack | undefined;
  alerts: AlertEvent[];
}

/**
 * One owned partition: reads it in stream order with an ordered consumer from the snapshot's
 * position, runs each batch through the partition's BatchProcessor, and advances the position
 * record (compare-and-set) over every batch written; only then go its ack and its alerts out.
 * Batches the previous owner had already acked (up to the record's `done`) are replayed into the
 * state and InfluxDB (idempotent points) without acks or alerts, so sinks see nothing twice.
 * Lifecycle: start (fence, restore, read) → commit/snapshot, repeatedly → release or lose.
 */
export class PartitionWorker {
  private readonly entries: Entry[] = [];
  private pendingAlerts: AlertEvent[] = [];
  private messages: ConsumerMessages | undefined;
  private reading: Promise<void> = Promise.resolve();
  private writes: Promise<unknown> = Promise.resolve();
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  private roomWaiter: (() => void) | undefined;
  private stopped = false;
  private fenced = false;
  /** The stream sequence of the last batch handed to the processor (the state reflects it). */
  private position: number;
  /** Messages of the partition after the last one read (from the consumer). */
  lag = 0;

  private constructor(
    private readonly o: WorkerOptions,
    private readonly state: PartitionState,
    private record: PartitionRecord,
    private revision: number,
    /** Batches up to here were acked by an earlier owner: replayed silently. */
    private readonly replayUntil: number,
  ) {
    this.position = record.seq;
  }

  get epoch(): number {
    return this.record.epoch;
  }

  get seq(): number {
    return this.position;
  }

  get series(): number {
    return this.state.detection.size;
  }

  /**
   * Fences the partition (rewrites its record under a new epoch: any later write of the previous
   * owner fails), restores its snapshot and starts reading after it. FencedError when another
   * member wrote the record meanwhile.
   */
  static async start(o: WorkerOptions): Promise<{ worker: PartitionWorker; takeover: boolean }> {
    const { partition: n, store, log } = o;
    const read = await store.read(n);
    if (read.damaged !== undefined)
      log.error(
        { partition: n, reason: read.damaged },
        'partition record unreadable: its state starts afresh from the start of the stream',
      );
    const prev = read.record;
    const record: PartitionRecord = {
      v: 1,
      owner: o.member,
      epoch: (prev?.epoch ?? 0) + 1,
      seq: prev?.seq ?? 0,
      done: prev?.done ?? 0,
      released: false,
      snapshot: prev?.snapshot ?? null,
    };
    const revision = await store.write(n, record, read.revision);
    let state: PartitionState | undefined;
    const collect: AlertEvent[] = [];
    const fresh = (): PartitionState => o.createState((a) => collect.push(a));
    if (record.snapshot !== null) {
      state = fresh();
      const bytes = await store.loadSnapshot(record.snapshot);
      const restored =
        bytes === undefined
          ? { ok: false as const, reason: 'its object is missing' }
          : await restoreSnapshot(n, bytes, state);
      if (!restored.ok || restored.seq !== record.seq) {
        o.counters.inc('snapshots_unreadable');
        log.error(
          {
            partition: n,
            reason: restored.ok ? `it reflects seq ${restored.seq}, the record says ${record.seq}` : restored.reason,
          },
          'partition snapshot unreadable: detector state starts afresh at its position',
        );
        await state.detection.close();
        state = undefined;
      }
    }
    const worker = new PartitionWorker(o, state ?? fresh(), record, revision, record.done);
    worker.pendingAlerts = collect; // the array the state's onAlert pushes into
    try {
      await worker.startReading();
    } catch (err) {
      await worker.state.detection.close();
      throw err;
    }
    // A record not handed over gracefully: its owner died (or this member, restarted under its name).
    return { worker, takeover: prev !== undefined && !prev.released };
  }

  private async startReading(): Promise<void> {
    const from = this.position + 1;
    // Start sequence only (nats.js adds opt_start_seq to any policy, and the server refuses it with `all`).
    const consumer = await this.o.js.consumers.get(STREAM, {
      filterSubjects: partitionFilter(this.o.partition),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    // Pulls expire after 5 s (nats.js's default is 30 s, which is also its wait before it retries
    // a consumer it could not create: a busy server would hold a takeover that long).
    const messages = await consumer.consume({ max_messages: 32, expires: 5_000 });
    this.messages = messages;
    this.reading = (async () => {
      for await (const m of messages) {
        if (this.stopped) break;
        await this.handle(m);
      }
    })().catch((err: unknown) =>
      this.o.log.error({ partition: this.o.partition, err: (err as Error).message }, 'reading the partition failed'),
    );
  }

  private async handle(m: JsMsg): Promise<void> {
    while (this.gate !== undefined && !this.stopped) await this.gate.promise;
    if (this.entries.length >= this.o.maxUncommitted && !this.stopped)
      await new Promise<void>((resolve) => (this.roomWaiter = resolve));
    if (this.stopped) return;
    if (m.seq <= this.replayUntil) this.o.counters.inc('batches_replayed');
    this.position = m.seq;
    this.lag = m.info.pending;
    const handled = this.state.processor.process(m.data, agentOfPartitionSubject(m.subject));
    const entry: Entry = {
      seq: m.seq,
      settled: Promise.resolve(),
      done: false,
      failed: false,
      ack: undefined,
      alerts: [],
    };
    // Batches finish in order, and a batch's alerts reach onAlert just before its ack settles:
    // what is pending when it settles is this batch's (BatchProcessor's ordering).
    entry.settled = handled.ack.then(
      (ack) => {
        entry.ack = ack;
        entry.alerts = this.pendingAlerts.splice(0);
        entry.done = true;
      },
      () => {
        entry.failed = true;
        entry.done = true;
      },
    );
    this.entries.push(entry);
    await handled.next;
  }

  /**
   * Advances the position record over the batches written since the last commit, then acks them.
   * At most one waits at a time: while NATS is slow or away, the timer's calls join it instead of queueing up.
   */
  commit(): Promise<void> {
    this.nextCommit ??= this.exclusive(() => {
      this.nextCommit = undefined;
      return this.commitNow();
    });
    return this.nextCommit;
  }

  private nextCommit: Promise<void> | undefined;

  private async commitNow(): Promise<void> {
    let k = 0;
    while (k < this.entries.length && this.entries[k]!.done && !this.entries[k]!.failed) k++;
    if (k === 0) return;
    const covered = this.entries[k - 1]!.seq;
    await this.writeRecord({ ...this.record, done: covered });
    const acks: Ack[] = [];
    const alerts: AlertEvent[] = [];
    for (const e of this.entries.splice(0, k)) {
      if (e.seq <= this.replayUntil) continue;
      if (e.ack !== undefined) acks.push(e.ack);
      alerts.push(...e.alerts);
    }
    this.o.deliver(acks, alerts);
    this.roomWaiter?.();
    this.roomWaiter = undefined;
  }

  /**
   * Writes the partition's state at its current position: reading pauses, the batches in flight
   * are written and committed, the state is encoded and stored, and the record points to it.
   * `final`: the last one of this owner (written even with nothing new); `released` says it
   * handed the partition over gracefully.
   */
  snapshot(final?: { released: boolean }): Promise<void> {
    const released = final?.released ?? false;
    return this.exclusive(async () => {
      if (final === undefined && this.position === this.record.seq) return; // nothing new since the last one
      this.gate ??= gate();
      try {
        await Promise.all(this.entries.map((e) => e.settled));
        await this.commitNow();
        if (this.entries.length > 0) return; // a batch failed (stopping): its state is not the stream's; keep the last snapshot
        const seq = this.position;
        const bytes = await encodeSnapshot(this.o.partition, seq, this.state);
        const ref = await this.o.store.saveSnapshot(this.o.partition, this.record.epoch, seq, bytes);
        const old = this.record.snapshot;
        try {
          await this.writeRecord({ ...this.record, seq, done: seq, released, snapshot: ref });
        } catch (err) {
          await this.o.store.dropSnapshot(ref);
          throw err;
        }
        if (old !== null && JSON.stringify(old) !== JSON.stringify(ref)) await this.o.store.dropSnapshot(old);
        this.o.counters.inc('snapshots_written');
        this.o.counters.inc('snapshot_bytes', bytes.byteLength);
      } finally {
        this.openGate();
      }
    });
  }

  /**
   * Stops reading, lets the batches in flight finish (up to `drainMs`), commits them and writes a
   * final snapshot: the next owner replays nothing. With `released` false (the lease was lost),
   * the writes may be refused (counted) if the next owner already fenced the partition.
   */
  async finish(released: boolean, drainMs: number): Promise<void> {
    this.stopReading();
    await this.messages?.close().catch(() => undefined);
    await this.reading;
    const settled = Promise.all(this.entries.map((e) => e.settled));
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
    try {
      if (this.entries.every((e) => e.done)) await this.snapshot({ released });
      else await this.commit();
    } finally {
      // The partition's detector state (in this thread or the detection workers) goes with it.
      await this.state.detection.close();
    }
  }

  /** Nothing more is taken from the stream (a batch waiting for the gate or for room returns unprocessed). */
  private stopReading(): void {
    this.stopped = true;
    this.roomWaiter?.();
    this.roomWaiter = undefined;
    this.openGate();
  }

  private async writeRecord(record: PartitionRecord): Promise<void> {
    try {
      this.revision = await this.o.store.write(this.o.partition, record, this.revision);
      this.record = record;
    } catch (err) {
      if (err instanceof FencedError) {
        this.o.counters.inc('checkpoint_writes_refused');
        this.o.log.warn(
          { partition: this.o.partition, epoch: this.record.epoch },
          'position record rewritten by another owner: this member stops processing the partition (its write was refused)',
        );
        // Nothing of it is acked: the new owner reads these batches again and answers them.
        this.entries.splice(0);
        this.fenced = true;
        this.stopReading();
        void this.messages?.close().catch(() => undefined);
        this.o.onFenced();
      }
      throw err;
    }
  }

  private openGate(): void {
    const g = this.gate;
    this.gate = undefined;
    g?.open();
  }

  /** Record writes one at a time: two at once would refuse each other's revision. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.writes.then(() => (this.fenced ? undefined : fn()));
    this.writes = run.catch(() => undefined);
    return run;
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
