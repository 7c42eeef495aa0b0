import type { BatchQueue, QueuedBatch } from './queue.js';

/**
 * Which queued batches to (re)send, independent of the transport: at most `maxInFlight` batches
 * published and unacked at once, oldest first; a batch unacked after `ackTimeoutMs` is sent again;
 * after a reconnect everything unacked is sent again. Duplicates are fine: the cloud dedupes by
 * (agent, seq). Pure: the transport calls these methods and does the I/O.
 */
export class Sender {
  /** seq → time of the last send. */
  private readonly inFlight = new Map<number, number>();

  constructor(
    private readonly queue: BatchQueue,
    private readonly maxInFlight: number,
    private readonly ackTimeoutMs: number,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The batches to publish now, each marked as sent at `now`; `resend` tells which were sent before. */
  due(now: number): Array<{ batch: QueuedBatch; resend: boolean }> {
    const out: Array<{ batch: QueuedBatch; resend: boolean }> = [];
    // The queue's oldest `maxInFlight` batches are the only ones ever in flight, so acks free
    // slots in order and a stuck old batch cannot be starved by newer ones.
    for (const batch of this.queue.oldest(this.maxInFlight)) {
      const sentAt = this.inFlight.get(batch.seq);
      if (sentAt === undefined || now - sentAt >= this.ackTimeoutMs) {
        out.push({ batch, resend: sentAt !== undefined });
        this.inFlight.set(batch.seq, now);
      }
    }
    return out;
  }

  /** The cloud answered for `seq`: forget it. Returns false if it was no longer queued. */
  acked(seq: number): boolean {
    this.inFlight.delete(seq);
    return this.queue.remove(seq);
  }

  /** The connection dropped: nothing is in flight any more, all of it goes again on reconnect. */
  disconnected(): void {
    this.inFlight.clear();
  }

  /** Forget in-flight marks of batches the queue no longer holds (dropped at its bound). */
  forget(seq: number): void {
    this.inFlight.delete(seq);
  }
}
