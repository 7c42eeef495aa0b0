/** A sealed batch waiting for the cloud's ack: its encoded envelope and what it holds. */
export interface QueuedBatch {
  readonly seq: number;
  readonly payload: string;
  readonly windows: number;
  readonly readings: number;
}

/**
 * Where sealed batches wait until the cloud acks them. Bounded; what the bound policy drops is
 * returned so the caller can count it. Implementations: in memory (here), on disk (the spool).
 */
export interface BatchQueue {
  /** Appends a batch; returns the batches the bound policy dropped (the new one under reject-new). */
  append(batch: QueuedBatch): QueuedBatch[];
  /** Up to `max` unacked batches in seq order, oldest first. */
  oldest(max: number): QueuedBatch[];
  /** Forgets an acked batch; false when it was not held. */
  remove(seq: number): boolean;
  readonly size: number;
}

/** An in-memory BatchQueue bounded by batch count. */
export class MemoryBatchQueue implements BatchQueue {
  private readonly batches = new Map<number, QueuedBatch>();

  constructor(
    private readonly maxBatches: number,
    private readonly onFull: 'drop-oldest' | 'reject-new',
  ) {}

  get size(): number {
    return this.batches.size;
  }

  append(batch: QueuedBatch): QueuedBatch[] {
    if (this.batches.size < this.maxBatches) {
      this.batches.set(batch.seq, batch);
      return [];
    }
    if (this.onFull === 'reject-new') return [batch];
    // Map iteration order is insertion order, and seqs are appended in increasing order.
    const oldest = this.batches.values().next().value as QueuedBatch;
    this.batches.delete(oldest.seq);
    this.batches.set(batch.seq, batch);
    return [oldest];
  }

  oldest(max: number): QueuedBatch[] {
    const out: QueuedBatch[] = [];
    for (const b of this.batches.values()) {
      if (out.length >= max) break;
      out.push(b);
    }
    return out;
  }

  remove(seq: number): boolean {
    return this.batches.delete(seq);
  }
}
