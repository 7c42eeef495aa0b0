import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dist = (pkg: string, file: string): string => fileURLToPath(new URL(file, import.meta.resolve(pkg)));

/** Every command a user runs, by the name the README gives it, and how it is started. */
const clis = [
  { name: 'tributary-agent', argv: [dist('@tributary/edge-agent', './cli.js')] },
  { name: 'tributary-cloud', argv: [dist('@tributary/cloud-processor', './cli.js')] },
  { name: 'tributary-replay', argv: [dist('@tributary/cloud-processor', './replay/cli.js')] },
  { name: 'tributary-replay csv', argv: [dist('@tributary/cloud-processor', './replay/cli.js'), 'csv'] },
  { name: 'nab runner', argv: [fileURLToPath(new URL('../../../bench/dist/nab/cli.js', import.meta.url))] },
  { name: 'skab analyse', argv: [fileURLToPath(new URL('../../../bench/dist/skab/analyse.js', import.meta.url))] },
  { name: 'tributary-sim', argv: [dist('@tributary/device-simulator', './cli.js')] },
  { name: 'tributary-sim run', argv: [dist('@tributary/device-simulator', './cli.js'), 'run'] },
  { name: 'tributary-sim score', argv: [dist('@tributary/device-simulator', './cli.js'), 'score'] },
  {
    name: 'heap-summary',
    argv: [fileURLToPath(new URL('../../../bench/dist/cloud/heap-summary.js', import.meta.url))],
  },
  {
    name: 'profile-summary',
    argv: [fileURLToPath(new URL('../../../bench/dist/cloud/profile-summary.js', import.meta.url))],
  },
  { name: 'the demo (npm start)', argv: [fileURLToPath(new URL('../../../demo/dist/main.js', import.meta.url))] },
];

const repo = (file: string): string => fileURLToPath(new URL(`../../../${file}`, import.meta.url));

/**
 * Every `npm run bench*` of the root package.json. Each must be one node command after the build,
 * so that what follows `--` reaches it (npm appends it to the last command of a script).
 */
const scripts = (JSON.parse(readFileSync(repo('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const benches = Object.entries(scripts).filter(([name]) => name === 'bench' || name.startsWith('bench:'));

test('every npm run bench* is one node command after the build, so its arguments reach it', () => {
  assert.ok(benches.length >= 8, `${benches.length} bench scripts`);
  for (const [name, script] of benches)
    assert.match(script, /^npm run build --silent && node bench\/dist\/[\w/-]+\.js$/, `npm run ${name}: ${script}`);
});

for (const [name, script] of benches) clis.push({ name: `npm run ${name}`, argv: [repo(script.split(' ').at(-1)!)] });

const run = (argv: string[]) => spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 30_000 });

for (const cli of clis) {
  test(`${cli.name} --help prints its usage and exits 0`, () => {
    const r = run([...cli.argv, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage:|^tributary-sim (run|score)/);
    assert.match(r.stdout, /--help|--\w+/);
    assert.equal(r.stderr, '');
  });

  test(`${cli.name} with an unknown flag names it and exits 2`, () => {
    const r = run([...cli.argv, '--frobnicate']);
    assert.equal(r.status, 2, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /--frobnicate/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('tributary-cloud with a detector setting it cannot use exits 2 naming the key, without a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-cli-'));
  const config = join(dir, 'processor.yaml');
  writeFileSync(config, 'detection: { detector: robust-zscore, metrics: { co2: { detector: magic } } }\n');
  const r = run([dist('@tributary/cloud-processor', './cli.js'), '--config', config]);
  assert.equal(r.status, 2, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /invalid config .*detection\.metrics\.co2\.detector: unknown detector "magic"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

for (const [flag, value] of [
  ['--pinned-repeats', '0'],
  ['--pinned-repeats', 'two'],
  ['--pinned-repeats', '1.5'],
  ['--writer-passes', '0'],
  ['--series', 'ten'],
  ['--rounds', '2.5'],
] as const) {
  test(`npm run bench:cloud -- ${flag} ${value} names the flag and the value and exits 2, before any run`, () => {
    const r = run([repo('bench/dist/cloud.js'), flag, value]);
    assert.equal(r.status, 2, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^bench:cloud: ${flag} must be a whole number above 0, not ${value}`));
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}
