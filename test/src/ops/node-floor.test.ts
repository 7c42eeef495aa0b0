import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runAgentToInflux, type NodeRuntime } from '../harness/agent-rig.js';
import { startInfluxd } from '../harness/influxd.js';
import { nodeBuild, nodeFloor } from '../harness/node-builds.js';
import { scratchDir } from '../harness/scratch.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const floor = nodeFloor();
const build =
  process.arch === 'x64'
    ? await nodeBuild('x64', floor)
    : { unavailable: `the floor is checked on x86-64 hosts (this is ${process.arch})` };
const skip = 'unavailable' in build ? `Node ${floor} is not here: ${build.unavailable}` : false;
const oldest: NodeRuntime = {
  label: `node ${floor}`,
  command: 'binary' in build ? build.binary : '',
  args: [],
  env: {},
};

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? testFiles(path) : name.endsWith('.test.js') ? [path] : [];
  });
}

test(`the agent's and the schemas' own tests pass on Node ${floor}, the oldest engines allows`, {
  skip,
  timeout: 300_000,
}, async () => {
  const files = ['edge-agent', 'firmware-schemas', 'runtime'].flatMap((p) => testFiles(join(repoRoot, p, 'dist')));
  const { stdout } = await run(oldest.command, ['--version']);
  assert.equal(stdout.trim(), `v${floor}`);
  // Without NODE_TEST_CONTEXT, which would make the inner runner report to this one instead of printing TAP.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
  const r = await run(oldest.command, ['--test', '--test-reporter=tap', ...files], {
    cwd: repoRoot,
    env,
    maxBuffer: 64 << 20,
  }).catch((err: { stdout: string; stderr: string }) => ({ ...err, failed: true }));
  const failures = r.stdout.split('\n').filter((l) => /^\s*not ok /.test(l));
  assert.deepEqual(failures, [], `${r.stdout.slice(-3000)}${r.stderr}`);
  assert.ok(!('failed' in r), r.stderr);
  assert.match(r.stdout, /^# pass [1-9]\d*$/m);
});

test(`on Node ${floor} the compiled agent reads serial and MQTT and the cloud processor writes every reading to InfluxDB`, {
  skip,
  timeout: 120_000,
}, async (t) => {
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const r = await runAgentToInflux({
    agent: oldest,
    cloud: oldest,
    influxUrl: influxd.url,
    database: 'floor',
    series: 50,
    mqttReadings: 1_000,
    serialReadings: 200,
    startTimeoutMs: 30_000,
  });
  assert.equal(r.accepted, r.sent);
  assert.equal(r.inInflux, r.sent, 'Σ count in InfluxDB');
});

test(`on Node ${floor} the simulator plays a fleet`, { skip, timeout: 60_000 }, async () => {
  const dir = scratchDir('floor-sim');
  const out = join(dir, 'telemetry.jsonl');
  const sim = fileURLToPath(new URL('./cli.js', import.meta.resolve('@tributary/device-simulator')));
  const r = await run(oldest.command, [
    sim,
    'run',
    '--devices',
    '5',
    '--duration',
    '1h',
    '--speed',
    '100000',
    '--transport',
    'file',
    '--out',
    out,
    '--labels',
    join(dir, 'labels.jsonl'),
    '--progress',
    'off',
  ]);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { messages: number };
  assert.ok(summary.messages > 0);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, summary.messages);
});
