import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * Detector checkpoints: JSON, gzip-compressed (detector state is mostly numbers, which compress
 * several-fold), written atomically (a temporary file renamed over the old one) so a crash while
 * writing leaves the previous checkpoint intact.
 */
export function writeCheckpoint(path: string, value: unknown): number {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = gzipSync(JSON.stringify(value), { level: 6 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return bytes.length;
}

/** The checkpoint at `path`, or undefined when there is none or it cannot be read. */
export function readCheckpoint(path: string): unknown {
  try {
    return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
