import { closeSync, createWriteStream, fsyncSync, mkdirSync, openSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';

/** Parts written between two yields to the event loop, so ingest goes on while a checkpoint is written. */
const PARTS_PER_SLICE = 200;

/**
 * Writes a checkpoint as gzip-compressed JSON lines (one part per line: a header, then one entry
 * per series), streaming and yielding to the event loop every few hundred parts, so a fleet of
 * many thousands of series never stalls ingest. Parts are taken from the iterable as they are
 * written. The file appears atomically (a temporary file renamed over the old one): a crash while
 * writing leaves the previous checkpoint. Resolves with the bytes written.
 */
export async function writeCheckpoint(path: string, parts: Iterable<unknown>): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  async function* lines(): AsyncGenerator<string> {
    let n = 0;
    for (const part of parts) {
      yield `${JSON.stringify(part)}\n`;
      if (++n % PARTS_PER_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  const file = createWriteStream(tmp);
  // pipeline() tears the chain down on any error (ENOSPC, EACCES) and rejects: no stray 'error' event.
  await pipeline(Readable.from(lines()), createGzip({ level: 6 }), file);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return file.bytesWritten;
}

/** The parts of the checkpoint at `path`, or undefined when there is none or it cannot be read. */
export function readCheckpoint(path: string): unknown[] | undefined {
  try {
    return gunzipSync(readFileSync(path))
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as unknown);
  } catch {
    return undefined;
  }
}
