import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Every detection worker thread loads worker-thread.js and what it imports, once a thread: the
 * wire contracts (`@tributary/firmware-schemas`' index, with YAML) cost each thread about 6 MB of
 * resident memory it never uses (issue 18). Its graph of compiled modules (type-only imports are
 * gone from them) may reach packages only by the names below.
 */
const ALLOWED = new Set(['node:v8', 'node:worker_threads', 'zod', '@tributary/firmware-schemas/unknown-keys']);

/** The bare specifiers (packages) the modules reachable from `file` by relative imports import. */
function packagesOf(file: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(file)) return packages;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]/g)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) packagesOf(resolve(dirname(file), spec), seen, packages);
    else packages.add(spec);
  }
  return packages;
}

test('a detection worker thread loads the detection core and zod, not the wire contracts or YAML', () => {
  const worker = fileURLToPath(new URL('./worker-thread.js', import.meta.url));
  const packages = [...packagesOf(worker)];
  assert.ok(packages.includes('zod'), `walked the graph (${packages.join(', ')})`);
  assert.deepEqual(
    packages.filter((p) => !ALLOWED.has(p)),
    [],
  );
});
