import { decodeCheckpoint, encodeCheckpoint } from '../state/checkpoint.js';
import type { PartitionState } from '../partition.js';

/** The first line of a partition snapshot; the detection checkpoint's own lines follow. */
interface SnapshotHeader {
  readonly v: 1;
  readonly partition: number;
  /** The stream sequence the state reflects. */
  readonly seq: number;
  readonly dedupe: unknown;
}

/**
 * A partition's whole state as checkpoint bytes (gzip JSON lines, checkpoint.ts): a header with
 * the stream sequence and the dedupe state, then Detection's own parts (its alerts, agents'
 * clocks and every series). Call it only while nothing of the partition is in flight, so every
 * part reflects exactly `seq`. gzip level 1: a snapshot is read back once, and written often.
 */
export function encodeSnapshot(partition: number, seq: number, state: PartitionState): Promise<Buffer> {
  const header: SnapshotHeader = { v: 1, partition, seq, dedupe: state.dedupe.snapshot() };
  async function* parts(): AsyncGenerator<unknown> {
    yield header;
    yield* state.detection.snapshotParts();
  }
  return encodeCheckpoint(parts(), 1);
}

/**
 * Restores fresh `state` from snapshot bytes. The batches after it are replayed from the stream,
 * so Detection judges the time since it as live did. Resolves with the sequence it reflects.
 */
export async function restoreSnapshot(
  partition: number,
  bytes: Uint8Array,
  state: PartitionState,
): Promise<{ ok: true; seq: number; damagedLines: number } | { ok: false; reason: string }> {
  const read = decodeCheckpoint(bytes);
  if (!read.ok) return { ok: false, reason: read.reason };
  const it = read.parts[Symbol.iterator]();
  const first = it.next();
  const header = first.value as Partial<SnapshotHeader> | undefined;
  if (first.done === true || header?.v !== 1 || header.partition !== partition || typeof header.seq !== 'number')
    return { ok: false, reason: `no header of partition ${partition}` };
  state.dedupe.restore(header.dedupe);
  const rest: Iterable<unknown> = { [Symbol.iterator]: () => it };
  if ((await state.detection.restoreParts(rest, true)) === undefined)
    return { ok: false, reason: 'no detection header' };
  return { ok: true, seq: header.seq, damagedLines: read.badLines() };
}
