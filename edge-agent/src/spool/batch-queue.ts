/** A sealed batch held until the cloud acks it: its seq and what it holds (for drop accounting). */
export interface SpooledBatch {
  readonly seq: number;
  readonly windows: number;
  readonly readings: number;
}

/** What a queue found when it opened: batches to send again, and damage it skipped. */
export interface SpoolRecovery {
  readonly unacked: number;
  readonly tornRecords: number;
  readonly tornBytes: number;
  readonly problems: readonly string[];
  /** Seqs skipped because an unclean stop may have lost batches that were already sent. */
  readonly seqsSkipped: number;
  /** Every batch with a seq below this was appended (and is held, acked or dropped); none above. */
  readonly appendedBelow: number;
}

/**
 * Where sealed batches wait until the cloud acks them, bounded, with a named policy at the bound.
 * `append` returns what the policy dropped (the new batch itself under reject-new) so the caller
 * counts it. Implementations: the disk spool (default) and an in-memory queue, by `spool.type` in
 * registry.ts. Constructing one opens nothing; `open` reads (or makes) its state, once, before
 * any other call.
 */
export interface BatchQueue {
  /** Reads what a previous run left (batches to send again, the seq to go on from); says what it found. */
  open(): SpoolRecovery;
  /** When this queue's durable state was created (ms); goes in every batch (see the envelope's `epoch`). */
  readonly epoch: number;
  /** The seq for the next batch (asking does not use it up: appending does), across restarts when durable. */
  nextSeq(): number;
  append(batch: SpooledBatch, payload: string): SpooledBatch[];
  /** Up to `max` unacked batches in seq order, oldest first. */
  oldest(max: number): SpooledBatch[];
  /** The encoded envelope of a held batch (read from disk for the spool). */
  payload(seq: number): string | undefined;
  /** Forgets an acked batch; false when it was not held. */
  remove(seq: number): boolean;
  /** Unacked batches held. */
  readonly size: number;
  /** Bytes the queue occupies against its bound. */
  readonly bytes: number;
  /** Makes everything appended durable (fsync) and releases files (nothing, if never opened). */
  close(): void;
}
