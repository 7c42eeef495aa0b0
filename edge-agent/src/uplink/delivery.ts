import type { Ack } from '@tributary/firmware-schemas';
import type { Clock, Counters, LatencyObserver, Logger, ProblemReport } from '@tributary/runtime';
import type { AgentCounter } from '../core/pipeline.js';
import type { BatchQueue, SpooledBatch, SpoolRecovery } from '../spool/batch-queue.js';
import { Sender } from './sender.js';
import type { TransportEvents, UplinkTransport } from './transport.js';

export interface DeliveryOptions {
  readonly maxInFlight: number;
  readonly ackTimeoutMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

/** How often due resends are looked for. */
const PUMP_MS = 200;
/**
 * A batch still unanswered after the cloud acked this many later ones will never be answered (the
 * cloud cannot read it, say): it is dropped and counted, so it cannot hold a send slot and grow the
 * ack cursor forever.
 */
const MAX_ACK_LAG = 10_000;

/**
 * Gets spooled batches to the cloud: appends each sealed batch to the queue (spool) before it is
 * sent, sends the oldest unacked ones through the transport, and deletes a batch only when the
 * cloud's ack for it arrives. Counts what is sent, resent, acked, rejected and dropped at the
 * spool's bound (logged once per interval through the problem report).
 */
export class Delivery implements TransportEvents {
  private readonly sender: Sender;
  private readonly drainWaiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  /**
   * Seqs of held batches sent at least once. A batch dropped at the bound after it was sent may
   * still have been written by the cloud (its ack lost), so drops are counted apart by this.
   * Batches recovered from the spool at start may have been sent before the restart.
   */
  private readonly sentOnce = new Set<number>();
  /** Batches below this seq were in the spool when it opened (see `open`). */
  private recoveredBelow = 0;
  /**
   * When each held batch of this run was appended to the spool (clock ms), oldest first: for the
   * sealed → acked latency and /health. As bounded as the spool: a batch leaves it when it leaves
   * the spool. Batches recovered from the spool at start have no entry.
   */
  private readonly appendedAt = new Map<number, number>();
  /** Since when the transport is down (clock ms); undefined while connected. */
  private downSince: number | undefined;

  constructor(
    private readonly queue: BatchQueue,
    private readonly transport: UplinkTransport,
    options: DeliveryOptions,
    private readonly counters: Counters<AgentCounter>,
    private readonly problems: ProblemReport,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Seconds from a batch's append to the spool to the cloud's ack (ok or duplicate). */
    private readonly ackLatency?: LatencyObserver,
  ) {
    this.downSince = clock.now();
    this.sender = new Sender(
      queue,
      options.maxInFlight,
      options.ackTimeoutMs,
      options.backoff.initialMs,
      options.backoff.maxMs,
    );
  }

  /** Opens the queue (the spool reads what the last run left): before anything is enqueued or `start`. */
  open(): SpoolRecovery {
    const recovery = this.queue.open();
    this.recoveredBelow = this.queue.nextSeq();
    return recovery;
  }

  get queued(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.sender.inFlightCount;
  }

  get isConnected(): boolean {
    return this.transport.connected;
  }

  start(): void {
    this.transport.start(this);
    this.timer = setInterval(() => this.pump(), PUMP_MS);
  }

  get epoch(): number {
    return this.queue.epoch;
  }

  /** The seq the next sealed batch gets. */
  nextSeq(): number {
    return this.queue.nextSeq();
  }

  /** Spools a sealed batch (counting what the bound drops), then sends what is due. */
  enqueue(batch: SpooledBatch, payload: string): void {
    this.appendedAt.set(batch.seq, this.clock.now());
    const dropped = this.queue.append(batch, payload);
    for (const d of dropped) {
      this.appendedAt.delete(d.seq);
      this.sender.forget(d.seq);
      this.counters.inc('batches_dropped');
      this.counters.inc('readings_dropped', d.readings);
      // Windows too: one of glitches only (count 0, its outOfRange) adds no reading to the above.
      this.counters.inc('windows_dropped', d.windows);
      if (!this.sentOnce.delete(d.seq) && d.seq >= this.recoveredBelow) {
        this.counters.inc('batches_dropped_unsent');
        this.counters.inc('readings_dropped_unsent', d.readings);
        this.counters.inc('windows_dropped_unsent', d.windows);
      }
    }
    if (dropped.length > 0) {
      const seqs = dropped.map((d) => d.seq);
      this.problems.note(
        'spool_full',
        `spool full: dropped ${dropped.length} batch(es), seq ${Math.min(...seqs)}..${Math.max(...seqs)}, ${dropped.reduce((n, d) => n + d.windows, 0)} windows, ${dropped.reduce((n, d) => n + d.readings, 0)} readings`,
      );
    }
    this.pump();
  }

  /** Resolves when every spooled batch is acked, or after `timeoutMs`; true if all were. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.queue.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drainWaiters.delete(done);
        resolve(this.queue.size === 0);
      };
      const timer = setTimeout(done, timeoutMs);
      this.drainWaiters.add(done);
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.transport.stop();
    this.queue.close();
  }

  connected(): void {
    this.downSince = undefined;
    this.pump();
  }

  disconnected(): void {
    this.downSince ??= this.clock.now();
    this.sender.disconnected();
  }

  /** For /health: since when the uplink is down, and how long the oldest batch of this run has waited for its ack (ms). */
  waiting(now: number): { downSinceMs: number | undefined; oldestUnackedMs: number } {
    const oldest = this.appendedAt.values().next();
    return {
      downSinceMs: this.transport.connected ? undefined : this.downSince,
      oldestUnackedMs: oldest.done ? 0 : now - oldest.value,
    };
  }

  answered(ack: Ack): void {
    // An ack for the same seq of another epoch answers a batch of this gateway's state before a wipe.
    if (ack.epoch !== undefined && ack.epoch !== this.queue.epoch) return;
    if (!this.sender.acked(ack.seq)) return; // the answer to a resend of a batch already acked
    this.sentOnce.delete(ack.seq);
    const appended = this.appendedAt.get(ack.seq);
    this.appendedAt.delete(ack.seq);
    if (appended !== undefined && ack.status !== 'rejected')
      this.ackLatency?.observe(Math.max(0, this.clock.now() - appended) / 1000);
    if (ack.status === 'ok') this.counters.inc('batches_acked');
    else if (ack.status === 'duplicate') this.counters.inc('batches_duplicate');
    else {
      this.counters.inc('batches_rejected');
      this.log.error({ seq: ack.seq, reason: ack.reason }, 'cloud rejected a batch; it is dropped');
    }
    this.abandonStuck(ack.seq);
    this.pump();
    if (this.queue.size === 0) for (const done of [...this.drainWaiters]) done();
  }

  private abandonStuck(ackedSeq: number): void {
    for (;;) {
      const oldest = this.queue.oldest(1)[0];
      if (oldest === undefined || oldest.seq >= ackedSeq - MAX_ACK_LAG) return;
      this.queue.remove(oldest.seq);
      this.appendedAt.delete(oldest.seq);
      this.sender.forget(oldest.seq);
      this.sentOnce.delete(oldest.seq);
      this.counters.inc('batches_abandoned');
      this.counters.inc('readings_abandoned', oldest.readings);
      this.counters.inc('windows_abandoned', oldest.windows);
      this.problems.note(
        'batch_abandoned',
        `batch ${oldest.seq} never answered while ${MAX_ACK_LAG} later ones were acked; dropped with ${oldest.windows} windows, ${oldest.readings} readings`,
      );
    }
  }

  failed(seq: number, retryAfterMs?: number): void {
    this.sender.failed(seq, this.clock.now(), retryAfterMs);
  }

  private pump(): void {
    if (!this.transport.connected) return;
    for (const batch of this.sender.due(this.clock.now())) {
      const payload = this.queue.payload(batch.seq);
      if (payload === undefined) continue;
      this.counters.inc('batches_sent');
      // Went out before, in this run: after an ack timeout, or again after a reconnect.
      if (this.sentOnce.has(batch.seq)) this.counters.inc('batches_resent');
      this.sentOnce.add(batch.seq);
      this.transport.send(batch.seq, payload);
    }
  }
}
