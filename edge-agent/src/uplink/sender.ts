import type { BatchQueue, SpooledBatch } from '../spool/batch-queue.js';

interface InFlight {
  attempts: number;
  /** When it is sent again if no ack has come. */
  dueAt: number;
}

/**
 * Which queued batches to (re)send, whatever the transport: at most `maxInFlight` unacked batches
 * out at once, always the queue's oldest, so acks free slots in order and an old batch is never
 * starved by newer ones. A batch without an ack is sent again after `ackTimeoutMs`, doubling per
 * attempt up to `maxBackoffMs` (or the timeout, if longer), plus up to 25 % jitter; a failed send (HTTP error) is retried after the
 * backoff. After a reconnect everything unacked goes again at once. Duplicates are harmless: the
 * cloud dedupes by (agent, seq). Pure: the caller passes the time and does the I/O.
 */
export class Sender {
  private readonly inFlight = new Map<number, InFlight>();

  constructor(
    private readonly queue: BatchQueue,
    private readonly maxInFlight: number,
    private readonly ackTimeoutMs: number,
    private readonly initialBackoffMs: number,
    private readonly maxBackoffMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The batches to send now, each marked as sent at `now`. */
  due(now: number): SpooledBatch[] {
    const out: SpooledBatch[] = [];
    for (const batch of this.queue.oldest(this.maxInFlight)) {
      const f = this.inFlight.get(batch.seq);
      if (f !== undefined && now < f.dueAt) continue;
      const attempts = (f?.attempts ?? 0) + 1;
      // The ack timeout is a floor (a batch is never resent sooner, even past maxBackoffMs); the
      // jitter, up to a quarter more, spreads the resends of many batches out.
      const wait = Math.max(
        this.ackTimeoutMs,
        Math.min(this.maxBackoffMs, this.ackTimeoutMs * 2 ** Math.min(attempts - 1, 20)),
      );
      this.inFlight.set(batch.seq, { attempts, dueAt: now + wait * (1 + 0.25 * this.random()) });
      out.push(batch);
    }
    return out;
  }

  /** The send itself failed (e.g. HTTP 503 or a refused connection): retry after the backoff. */
  failed(seq: number, now: number, retryAfterMs = 0): void {
    const f = this.inFlight.get(seq);
    if (!f) return;
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(f.attempts - 1, 20));
    f.dueAt = now + Math.max(retryAfterMs, this.random() * ceiling);
  }

  /** The cloud answered for `seq`: forget it. False if it was no longer queued (answer to a resend). */
  acked(seq: number): boolean {
    this.inFlight.delete(seq);
    return this.queue.remove(seq);
  }

  /** The connection dropped: nothing is in flight any more; all of it goes again on reconnect. */
  disconnected(): void {
    this.inFlight.clear();
  }

  /** The queue dropped `seq` at its bound. */
  forget(seq: number): void {
    this.inFlight.delete(seq);
  }
}
