import type { KV, ObjectStore } from 'nats';
import { isWrongLastSequence } from './leases.js';
import { recordKey } from './subjects.js';
import { decodeRecord, encodeRecord, type PartitionRecord, type SnapshotRef } from './record.js';

/** A write refused because the record moved on: another member fenced this one out. */
export class FencedError extends Error {
  readonly code = 'fenced';
  constructor(partition: number, options?: ErrorOptions) {
    super(`partition ${partition}: the position record was rewritten by another owner`, options);
  }
}

/** A record that cannot be read (damaged or of another version): the partition starts afresh from the stream. */
export interface RecordRead {
  readonly record: PartitionRecord | undefined;
  /** Revision to compare-and-set against (0: no record yet). */
  readonly revision: number;
  readonly damaged?: string;
}

/**
 * The position records (KV bucket, history 1, no expiry) and snapshots (inline in the record up
 * to `inlineMaxBytes`, else in the object store under a name no other write uses, so a fenced
 * owner's late snapshot never replaces the one the record points to).
 */
export class CheckpointStore {
  constructor(
    private readonly records: KV,
    private readonly snapshots: ObjectStore,
    private readonly inlineMaxBytes: number,
  ) {}

  async read(partition: number): Promise<RecordRead> {
    const entry = await this.records.get(recordKey(partition));
    if (entry === null || entry.operation !== 'PUT') return { record: undefined, revision: entry?.revision ?? 0 };
    const record = decodeRecord(entry.value);
    if (record instanceof Error) return { record: undefined, revision: entry.revision, damaged: record.message };
    return { record, revision: entry.revision };
  }

  /** Writes the record if its revision is still `revision`; resolves with the new one; FencedError otherwise. */
  async write(partition: number, record: PartitionRecord, revision: number): Promise<number> {
    try {
      return revision === 0
        ? await this.records.create(recordKey(partition), encodeRecord(record))
        : await this.records.update(recordKey(partition), encodeRecord(record), revision);
    } catch (err) {
      if (isWrongLastSequence(err)) throw new FencedError(partition, { cause: err });
      throw err;
    }
  }

  /** Stores snapshot bytes where they fit; the reference goes into the record. */
  async saveSnapshot(partition: number, epoch: number, seq: number, bytes: Uint8Array): Promise<SnapshotRef> {
    if (bytes.byteLength <= this.inlineMaxBytes) return { inline: Buffer.from(bytes).toString('base64') };
    const name = `p${partition}-e${epoch}-s${seq}`;
    await this.snapshots.putBlob({ name }, bytes);
    return { object: name, bytes: bytes.byteLength };
  }

  /** The snapshot's bytes, or undefined when its object is gone (deleted by hand, or lost); NATS errors reject. */
  async loadSnapshot(ref: SnapshotRef): Promise<Uint8Array | undefined> {
    if ('inline' in ref) return Buffer.from(ref.inline, 'base64');
    return (await this.snapshots.getBlob(ref.object)) ?? undefined;
  }

  /** Deletes a snapshot no record points to any more (best effort: a leftover only costs space). */
  async dropSnapshot(ref: SnapshotRef | null): Promise<void> {
    if (ref === null || 'inline' in ref) return;
    await this.snapshots.delete(ref.object).catch(() => undefined);
  }
}
