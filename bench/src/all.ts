#!/usr/bin/env node
/**
 * npm run bench — runs every benchmark script in this folder (each `*.js` beside this one), one
 * after the other, each in its own process with its defaults. Each prints its figures and ends
 * with a JSON line.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '@tributary/runtime';

const USAGE = `usage: npm run bench

Runs every benchmark but bench:soak (each npm run bench:* with its defaults), one after the
other, each in its own process; each prints its figures and ends with one line of JSON.
Exit status 1 when one of them failed.

  -h, --help   prints this and exits
`;

parseCommandLine('bench', USAGE, { options: {} });
const here = dirname(fileURLToPath(import.meta.url));
/**
 * Not in the list: `npm run bench:soak` runs for ten minutes by default; detect.js (bench:detect)
 * runs detect-fleet.js itself, after the NAB and SKAB scoring.
 */
const apart = new Set(['all.js', 'soak.js', 'detect-fleet.js']);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !apart.has(f))
  .sort()
  .map((f) => join(here, f));
let failed = 0;
for (const bench of benches) {
  process.stderr.write(`== ${bench}\n`);
  const r = spawnSync(process.execPath, [bench], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
