import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { WindowResultSchema, type WindowResult } from '@tributary/firmware-schemas';

/** Windows older than a day are history: a new point would not complete them but replace them. */
const MAX_AGE_MS = 86_400_000;

/**
 * The windows a stop flushed while still open, saved to a file so the next start can take them
 * back (WindowEngine.restore): readings arriving for them after the restart are added to what was
 * sent, and the window is sent again whole instead of a second, partial point overwriting it.
 */
export class OpenWindowsFile {
  constructor(private readonly path: string) {}

  /** The windows saved by the last stop, recent ones only; the file is removed. Empty when there is none. */
  take(now: number): WindowResult[] {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return []; // none saved: a first start, or a crash (the write-ahead log holds the open windows then)
    }
    rmSync(this.path, { force: true });
    const windows = (Array.isArray(saved) ? saved : []).filter(
      (w) => WindowResultSchema.safeParse(w).success,
    ) as WindowResult[];
    return windows.filter((w) => w.end > now - MAX_AGE_MS);
  }

  /** Saves the windows a stop flushed open (atomically: written aside, then renamed). Throws what the file system throws. */
  save(windows: readonly WindowResult[]): void {
    if (windows.length === 0) return;
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, JSON.stringify(windows));
    renameSync(`${this.path}.tmp`, this.path);
  }
}
