import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
// Removed when the test file's process ends, not in an after-hook: after-hooks run in the order
// they were registered, so the agents and processors started later would write their state
// (spool, dedupe, checkpoints) back into a directory already removed.
process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed when the test process exits. */
export function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tributary-${name}-`));
  dirs.add(dir);
  return dir;
}
