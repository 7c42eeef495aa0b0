import { crc32 } from './crc32.js';

/**
 * One spool record, little-endian:
 *
 *   u32 payloadLength | u32 crc32 | f64 seq | u32 readings | u32 windows | payload
 *
 * The spool's payload is a batch (UTF-8 JSON); the receiver write-ahead log (wal/) uses the same
 * records, with `windows` holding the kind of its entry.
 *
 * The CRC-32 covers everything after itself (seq, counts, payload), so a torn write — a record
 * cut short or half-overwritten by a power cut — is detected and the record skipped.
 */
export const RECORD_HEADER_BYTES = 24;
/** A length beyond this is not a record but garbage (a torn or overwritten header). */
export const MAX_RECORD_PAYLOAD_BYTES = 64 * 1024 * 1024;

export interface RecordMeta {
  readonly seq: number;
  readonly readings: number;
  readonly windows: number;
}

export function encodeRecord(meta: RecordMeta, payload: string | Uint8Array): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + body.length);
  record.writeUInt32LE(body.length, 0);
  record.writeDoubleLE(meta.seq, 8);
  record.writeUInt32LE(meta.readings, 16);
  record.writeUInt32LE(meta.windows, 20);
  record.set(body, RECORD_HEADER_BYTES);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  return record;
}

export type DecodedRecord =
  | {
      readonly ok: true;
      readonly meta: RecordMeta;
      readonly payloadOffset: number;
      readonly payloadLength: number;
      readonly size: number;
    }
  | { readonly ok: false; readonly reason: string };

/** Decodes the record starting at `offset` of a segment's bytes. Never throws. */
export function decodeRecordAt(bytes: Buffer, offset: number): DecodedRecord {
  if (bytes.length - offset < RECORD_HEADER_BYTES)
    return { ok: false, reason: `${bytes.length - offset} bytes left, too few for a record header (torn write)` };
  const length = bytes.readUInt32LE(offset);
  if (length > MAX_RECORD_PAYLOAD_BYTES)
    return { ok: false, reason: `record length ${length} is implausible (corrupt header)` };
  const size = RECORD_HEADER_BYTES + length;
  if (offset + size > bytes.length)
    return { ok: false, reason: `record of ${size} bytes runs past the end of the segment (torn write)` };
  const crc = bytes.readUInt32LE(offset + 4);
  const actual = crc32(bytes.subarray(offset + 8, offset + size));
  if (crc !== actual)
    return { ok: false, reason: `checksum mismatch (stored ${crc.toString(16)}, computed ${actual.toString(16)})` };
  const seq = bytes.readDoubleLE(offset + 8);
  if (!Number.isSafeInteger(seq) || seq < 0) return { ok: false, reason: `seq ${seq} is not a non-negative integer` };
  return {
    ok: true,
    meta: { seq, readings: bytes.readUInt32LE(offset + 16), windows: bytes.readUInt32LE(offset + 20) },
    payloadOffset: offset + RECORD_HEADER_BYTES,
    payloadLength: length,
    size,
  };
}
