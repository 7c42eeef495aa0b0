import { closeSync, createWriteStream, fsyncSync, mkdirSync, openSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';

/** Parts written between two yields to the event loop, so ingest goes on while a checkpoint is written. */
const PARTS_PER_SLICE = 200;

/** A part already serialised: one or more JSON lines (no newline at the end), written as they are. */
export class JsonText {
  constructor(readonly text: string) {}
}

/** What a checkpoint is written from: parts (objects, or JsonText), taken one at a time. */
export type CheckpointParts = Iterable<unknown> | AsyncIterable<unknown>;

/**
 * Writes a checkpoint as gzip-compressed JSON lines (one part per line: a header, then one entry
 * per series), streaming and yielding to the event loop every few hundred parts, so a fleet of
 * many thousands of series never stalls ingest. Parts are taken from the iterable as they are
 * written. The file appears atomically (a temporary file renamed over the old one): a crash while
 * writing leaves the previous checkpoint. Resolves with the bytes written.
 */
export async function writeCheckpoint(path: string, parts: CheckpointParts): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const file = createWriteStream(tmp);
  // pipeline() tears the chain down on any error (ENOSPC, EACCES) and rejects: no stray 'error' event.
  await pipeline(Readable.from(checkpointLines(parts)), createGzip({ level: 6 }), file);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return file.bytesWritten;
}

/**
 * A checkpoint in memory, in the same format as the file (gzip-compressed JSON lines), built
 * while yielding to the event loop as `writeCheckpoint` does: for snapshots stored elsewhere
 * (the cluster's object store). `level` trades CPU for size.
 */
export async function encodeCheckpoint(parts: CheckpointParts, level = 6): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const collect = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  // The collector ends the pipeline: it resolves once gzip's last bytes are in (with gzip last, it resolved before).
  await pipeline(Readable.from(checkpointLines(parts)), createGzip({ level }), collect);
  return Buffer.concat(chunks);
}

/** One JSON line per part, yielding to the event loop every PARTS_PER_SLICE parts. */
async function* checkpointLines(parts: CheckpointParts): AsyncGenerator<string> {
  let n = 0;
  for await (const part of parts) {
    if (!(part instanceof JsonText)) yield `${JSON.stringify(part)}\n`;
    else if (part.text !== '') yield `${part.text}\n`;
    if (++n % PARTS_PER_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A checkpoint read back: its parts, parsed lazily one line at a time, and how many lines were not JSON. */
export type CheckpointRead =
  | { readonly ok: true; readonly parts: Iterable<unknown>; badLines(): number }
  | { readonly ok: false; readonly reason: string };

/**
 * The checkpoint at `path`, or undefined when there is none. Lines are cut from the decompressed
 * bytes one at a time: a fleet's checkpoint (tens of kB a series) passes the longest string V8
 * can make (~512 MB) near 8,000 series, and one string of it would fail the whole restore. A line
 * that is not JSON is skipped and counted; a file that is not gzip is `ok: false` with the reason.
 */
export function readCheckpoint(path: string): CheckpointRead | undefined {
  let gz: Buffer;
  try {
    gz = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { ok: false, reason: (err as Error).message };
  }
  return decodeCheckpoint(gz);
}

/** A checkpoint's bytes (as `writeCheckpoint` or `encodeCheckpoint` made them) read back: see `readCheckpoint`. */
export function decodeCheckpoint(gz: Uint8Array): CheckpointRead {
  let data: Buffer;
  try {
    data = gunzipSync(gz);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  let bad = 0;
  function* parts(): Generator<unknown> {
    for (let start = 0; start < data.length; ) {
      let end = data.indexOf(10, start);
      if (end < 0) end = data.length;
      if (end > start) {
        let part: unknown;
        try {
          part = JSON.parse(data.toString('utf8', start, end));
        } catch {
          bad++;
          start = end + 1;
          continue;
        }
        yield part;
      }
      start = end + 1;
    }
  }
  return { ok: true, parts: parts(), badLines: () => bad };
}
