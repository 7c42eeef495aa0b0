import { SeqStore } from './seq-store.js';
import type { BatchQueue, SpooledBatch, SpoolRecovery } from './batch-queue.js';

/**
 * A BatchQueue in memory, bounded by batch count: for gateways whose storage must not be written.
 * Batches do not survive a restart; the seq does (SeqStore), so the cloud never mistakes a new
 * batch for a duplicate of an old one.
 */
export class MemoryBatchQueue implements BatchQueue {
  private readonly batches = new Map<number, { batch: SpooledBatch; payload: string }>();
  private totalBytes = 0;

  constructor(
    private readonly maxBatches: number,
    private readonly onFull: 'drop-oldest' | 'reject-new',
    private readonly seqs: SeqStore,
  ) {}

  /** Reads the seq to go on from; no batch survives a restart, so none is offered again. */
  open(): SpoolRecovery {
    this.seqs.open();
    return { unacked: 0, tornRecords: 0, tornBytes: 0, problems: [], seqsSkipped: 0, appendedBelow: 0 };
  }

  get epoch(): number {
    return this.seqs.epoch;
  }

  get size(): number {
    return this.batches.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  nextSeq(): number {
    return this.seqs.peek();
  }

  append(batch: SpooledBatch, payload: string): SpooledBatch[] {
    this.seqs.advancePast(batch.seq);
    const dropped: SpooledBatch[] = [];
    if (this.batches.size >= this.maxBatches) {
      if (this.onFull === 'reject-new') return [batch];
      // Map iteration order is insertion order, and seqs are appended in increasing order.
      const oldest = this.batches.values().next().value!;
      this.remove(oldest.batch.seq);
      dropped.push(oldest.batch);
    }
    this.batches.set(batch.seq, { batch, payload });
    this.totalBytes += payload.length;
    return dropped;
  }

  oldest(max: number): SpooledBatch[] {
    const out: SpooledBatch[] = [];
    for (const { batch } of this.batches.values()) {
      if (out.length >= max) break;
      out.push(batch);
    }
    return out;
  }

  payload(seq: number): string | undefined {
    return this.batches.get(seq)?.payload;
  }

  remove(seq: number): boolean {
    const held = this.batches.get(seq);
    if (!held) return false;
    this.batches.delete(seq);
    this.totalBytes -= held.payload.length;
    return true;
  }

  close(): void {
    // Nothing to release.
  }
}
