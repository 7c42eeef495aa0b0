/**
 * A partition's position record (KV `c.{n}`), written only with compare-and-set on its revision:
 * the snapshot of its state, the stream sequence that snapshot reflects, and how far acks and
 * alerts have gone out. A new owner rewrites it under a new epoch before it reads (the fence);
 * any later write by the old owner then fails its compare-and-set.
 */
export interface PartitionRecord {
  readonly v: 1;
  /** The member that wrote it, and its epoch (one more at each change of owner). */
  readonly owner: string;
  readonly epoch: number;
  /** The stream sequence the snapshot reflects (0: no snapshot, read the partition from its start). */
  readonly seq: number;
  /** Every batch up to this stream sequence has been written, acked and its alerts sent. */
  readonly done: number;
  /** The owner handed the partition over gracefully (a final snapshot at `done`). */
  readonly released: boolean;
  readonly snapshot: SnapshotRef | null;
}

/** A snapshot inline (base64 of the gzip bytes) or in the object store under `object`. */
export type SnapshotRef = { readonly inline: string } | { readonly object: string; readonly bytes: number };

export function encodeRecord(r: PartitionRecord): Uint8Array {
  return Buffer.from(JSON.stringify(r));
}

/** The record in `bytes`, or an error saying what is wrong with it. */
export function decodeRecord(bytes: Uint8Array): PartitionRecord | Error {
  let r: Partial<PartitionRecord>;
  try {
    r = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<PartitionRecord>;
  } catch (err) {
    return new Error(`not JSON: ${(err as Error).message}`);
  }
  const seqOk = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (
    r?.v !== 1 ||
    typeof r.owner !== 'string' ||
    !seqOk(r.epoch) ||
    !seqOk(r.seq) ||
    !seqOk(r.done) ||
    typeof r.released !== 'boolean'
  )
    return new Error('not a version 1 partition record');
  const s = r.snapshot as Record<string, unknown> | null | undefined;
  const snapshotOk =
    s === null ||
    (typeof s === 'object' &&
      s !== undefined &&
      (typeof s.inline === 'string' || (typeof s.object === 'string' && seqOk(s.bytes))));
  if (!snapshotOk) return new Error('its snapshot reference is malformed');
  return r as PartitionRecord;
}
