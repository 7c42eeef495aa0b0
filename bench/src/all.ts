#!/usr/bin/env node
/**
 * npm run bench — runs every benchmark script in this folder (each `*.js` beside this one), one
 * after the other, each in its own process. Each prints its figures and ends with a JSON line.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The NAB and SKAB half of bench:detect, in its own folder.
const nab = join(here, 'nab', 'bench.js');
/** Too long for the list: `npm run bench:soak` runs for ten minutes by default. */
const apart = new Set(['all.js', 'soak.js']);
const benches = [
  nab,
  ...readdirSync(here)
    .filter((f) => f.endsWith('.js') && !apart.has(f))
    .sort()
    .map((f) => join(here, f)),
];
let failed = 0;
for (const bench of benches) {
  process.stderr.write(`== ${bench}\n`);
  const r = spawnSync(process.execPath, [bench, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
