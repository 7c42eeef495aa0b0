import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * firmware-schemas is the contract only (docs/DESIGN.md, "Packages"): zod schemas, codecs and the
 * JSON Schema export. Anything that opens, patches or times something lives in @tributary/runtime
 * or in the package that does it. The source (tests and the export CLI in bin/ aside) imports zod,
 * yaml and its own files, nothing else; and package.json depends on nothing else.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const ALLOWED = new Set(['zod', 'yaml']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'bin' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

test('firmware-schemas source imports only zod, yaml and its own files', () => {
  const files = sources(join(root, 'src'));
  assert.ok(files.length > 10, `found the sources (${files.length})`);
  const foreign: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith('.') && !ALLOWED.has(spec)) foreign.push(`${relative(root, file)}: ${spec}`);
    }
  }
  assert.deepEqual(foreign, []);
});

test('firmware-schemas depends on zod and yaml only', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}).sort(), ['yaml', 'zod']);
});

/**
 * The house's other rule checked here (issue 22): the composition files only wire the units,
 * within 150 lines each as Biome formats them; a responsibility growing there moves out to the
 * module it belongs to (a registry, the pipeline, the HTTP or MQTT side, the outputs).
 */
const COMPOSITION_FILES = ['edge-agent/src/agent.ts', 'cloud-processor/src/cloud.ts'];
const MAX_COMPOSITION_LINES = 150;

test(`the composition files (the agent's and the single processor's) are at most ${MAX_COMPOSITION_LINES} lines`, () => {
  const repo = join(root, '..');
  const counts = COMPOSITION_FILES.map((file) => {
    const text = readFileSync(join(repo, file), 'utf8');
    return { file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) };
  });
  const over = counts.filter((c) => c.lines > MAX_COMPOSITION_LINES);
  assert.deepEqual(over, [], `over ${MAX_COMPOSITION_LINES} lines: move what is not wiring out of them`);
});
