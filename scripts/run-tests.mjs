#!/usr/bin/env node
// Runs every compiled test file of every workspace with the built-in node:test runner:
// unit tests beside the code in each package, integration and end-to-end tests under test/.
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const packages = ['firmware-schemas', 'runtime', 'storage', 'device-simulator', 'edge-agent', 'cloud-processor', 'test', 'bench', 'demo'];

function testFiles(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(testFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = packages.flatMap((p) => testFiles(join(p, 'dist')));
if (files.length === 0) {
  process.stderr.write('no compiled tests found: run `npm run build` first\n');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
