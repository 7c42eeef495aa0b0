#!/usr/bin/env node
// Runs every compiled test file of every workspace with the built-in node:test runner:
// unit tests beside the code in each package, integration and end-to-end tests under test/.
//
//   node scripts/run-tests.mjs [--unit] [node --test options]
//
// --unit (npm run test:unit) runs only the tests beside the code of the product and library
// packages: pure core tests and components on loopback in-process (aedes, an HTTP server), none
// of the real servers test/ starts (influxd, Mosquitto, socat, nats-server). About 40 s of CPU.
// Other arguments are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const unitPackages = ['firmware-schemas', 'runtime', 'storage', 'device-simulator', 'edge-agent', 'cloud-processor'];
const allPackages = [...unitPackages, 'test', 'bench', 'demo'];
const args = process.argv.slice(2);
const unit = args.includes('--unit');
const packages = unit ? unitPackages : allPackages;

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

// Only tests whose source is still there: tsc -b leaves behind what it compiled from a file since
// moved or deleted, and such a stale test would run old code against the new tree.
const hasSource = (pkg, file) =>
  existsSync(join(pkg, 'src', file.slice(join(pkg, 'dist').length + 1).replace(/\.js$/, '.ts')));
const files = packages.flatMap((p) => testFiles(join(p, 'dist')).filter((f) => hasSource(p, f)));
if (files.length === 0) {
  process.stderr.write('no compiled tests found: run `npm run build` first\n');
  process.exit(1);
}
const options = args.filter((a) => a !== '--unit');
// Test files at a time: unit tests mostly wait on nothing, so four keep two cores busy; the rest
// spend most of their time waiting on the servers they started (influxd, Mosquitto, nats-server)
// and on polling deadlines, so even two cores keep three busy (the whole suite in about 5 minutes
// instead of 10). TRIBUTARY_TEST_CONCURRENCY=1 runs one at a time.
const concurrency = Number(process.env.TRIBUTARY_TEST_CONCURRENCY ?? (unit ? 4 : 3));
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(
    `TRIBUTARY_TEST_CONCURRENCY must be a whole number ≥ 1 (got ${process.env.TRIBUTARY_TEST_CONCURRENCY})\n`,
  );
  process.exit(2);
}
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...options, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
