import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { journalPriority } from '@tributary/runtime';
import mqtt from 'mqtt';
import { influxQuery, startInfluxd } from '../harness/influxd.js';
import { metric, scrape } from '../harness/metrics.js';
import { freePort } from '../harness/ports.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';
import { which } from '../harness/which.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const missing = ['systemd-analyze', 'systemd-sysusers', 'systemctl'].filter((t) => which(t) === undefined);
const skip =
  missing.length > 0
    ? `${missing.join(', ')} not installed (Debian's systemd package: sudo apt-get install systemd)`
    : false;

const services = [
  {
    name: 'tributary-agent',
    user: 'tributary',
    groups: ['dialout'],
    config: '/etc/tributary/agent.yaml',
    state: '/var/lib/tributary',
    example: 'edge-agent/service/agent.example.yaml',
  },
  {
    name: 'tributary-cloud',
    user: 'tributary-cloud',
    groups: [],
    config: '/etc/tributary/processor.yaml',
    state: '/var/lib/tributary-cloud',
    example: 'cloud-processor/service/processor.example.yaml',
  },
];

/** npm run release's tarballs, unpacked, and install.sh run from each into one scratch root. */
let installed: Promise<{ root: string; output: Map<string, string> }> | undefined;
function install(): Promise<{ root: string; output: Map<string, string> }> {
  installed ??= (async () => {
    const out = scratchDir('release');
    await run(process.execPath, ['scripts/release.mjs', '--out', out], { cwd: repoRoot });
    const root = scratchDir('root');
    const output = new Map<string, string>();
    for (const s of services) {
      const version = (
        JSON.parse(readFileSync(join(repoRoot, s.example.split('/')[0]!, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
      await run('tar', ['-xzf', join(out, `${s.name}-${version}.tar.gz`), '-C', out]);
      const r = await run(join(out, `${s.name}-${version}`, 'install.sh'), [
        '--root',
        root,
        '--node',
        process.execPath,
      ]);
      output.set(s.name, r.stdout + r.stderr);
    }
    return { root, output };
  })();
  return installed;
}

const unitOf = (root: string, name: string): string => join(root, 'etc/systemd/system', `${name}.service`);
const directive = (unit: string, key: string): string[] =>
  [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

for (const s of services) {
  test(`install.sh lays out ${s.name} from its release: system user, code, config, state directory, enabled unit`, {
    skip,
    timeout: 120_000,
  }, async () => {
    const { root, output } = await install();
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const user = new RegExp(`^${s.user}:x:(\\d+):(\\d+):[^:]*:${s.state}:/usr/sbin/nologin$`, 'm').exec(passwd);
    assert.ok(user, `${s.user} is a system user with no login: ${passwd}`);
    for (const g of s.groups)
      assert.match(
        readFileSync(join(root, 'etc/group'), 'utf8'),
        new RegExp(`^${g}:x:\\d+:(.*,)?${s.user}(,|$)`, 'm'),
        `${s.user} in ${g}`,
      );
    const config = statSync(join(root, s.config));
    assert.equal(config.mode & 0o777, 0o640, 'the config is readable by the service group only');
    assert.equal(String(config.gid), user[2]);
    assert.equal(
      readFileSync(join(root, s.config), 'utf8'),
      readFileSync(join(repoRoot, s.example), 'utf8'),
      'the example config, as is',
    );
    assert.equal(String(statSync(join(root, s.state)).uid), user[1]);
    assert.ok(existsSync(join(root, 'opt', s.name, 'dist/cli.js')));
    assert.ok(!existsSync(join(root, 'opt', s.name, 'node_modules/typescript')), 'production dependencies only');
    const link = join(root, 'etc/systemd/system/multi-user.target.wants', `${s.name}.service`);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), `/etc/systemd/system/${s.name}.service`);
    assert.match(output.get(s.name)!, new RegExp(`config\\s+${s.config} \\(the example: edit it\\)`));
  });

  test(`${s.name}'s unit passes systemd-analyze verify, rates below 5 in systemd-analyze security, and keeps a bad config stopped`, {
    skip,
    timeout: 120_000,
  }, async (t) => {
    const { root } = await install();
    const path = unitOf(root, s.name);
    const unit = readFileSync(path, 'utf8');
    const verify = await run('systemd-analyze', ['verify', path]).catch((err: { stdout: string; stderr: string }) => ({
      ...err,
      failed: true,
    }));
    assert.ok(!('failed' in verify), verify.stderr);
    assert.equal(verify.stderr, '', 'no warnings');
    const security = await run('systemd-analyze', ['security', '--offline=yes', path]).catch(
      (err: { stdout: string }) => err,
    );
    const exposure = Number(/Overall exposure level for .*: (\d+(\.\d+)?)/.exec(security.stdout)?.[1]);
    t.diagnostic(`systemd-analyze security: ${s.name} exposure ${exposure}`);
    assert.ok(exposure < 5, `exposure ${exposure}: ${security.stdout}`);
    assert.deepEqual(directive(unit, 'ExecStart')[0]?.split(' ').slice(0, 1), [process.execPath], 'node by its path');
    assert.deepEqual(directive(unit, 'User'), [s.user]);
    assert.deepEqual(directive(unit, 'RestartPreventExitStatus'), ['2']);
    assert.deepEqual(directive(unit, 'SyslogIdentifier'), [s.name]);
    assert.deepEqual(directive(unit, 'StateDirectory'), [s.state.replace('/var/lib/', '')]);
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['ReadWritePaths', s.state],
    ])
      assert.deepEqual(directive(unit, key!), [value], key);
    assert.equal(directive(unit, 'MemoryMax').length, 1);
    // What RestartPreventExitStatus=2 catches: a config it cannot run with exits 2.
    const bad = join(scratchDir('bad-config'), 'bad.yaml');
    writeFileSync(bad, 'agentId: gw-01\nsources: []\nuplink: { type: mqtt, url: nowhere }\nbroker: { port: -1 }\n');
    const exit = await run(process.execPath, [join(root, 'opt', s.name, 'dist/cli.js'), '--config', bad]).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
    assert.equal(exit, 2);
  });
}

/** A service started as its installed unit says (paths under the scratch root), stdout to the "journal". */
async function startAsUnit(
  root: string,
  name: string,
  env: Record<string, string>,
  healthPort: number,
): Promise<{ child: ChildProcess; log: string; exited: Promise<number | null> }> {
  const [command, ...args] = directive(readFileSync(unitOf(root, name), 'utf8'), 'ExecStart')[0]!.split(' ');
  const rooted = args.map((a) => (/^\/(opt|etc|var)\//.test(a) ? join(root, a) : a));
  const log = join(scratchDir('journal'), `${name}.log`);
  const fd = openSync(log, 'w');
  const stream = statSync(log, { bigint: true });
  // JOURNAL_STREAM as systemd sets it for a unit whose stdout is the journal (here, a file).
  const child = spawn(command!, rooted, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env, JOURNAL_STREAM: `${stream.dev}:${stream.ino}` },
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(
    `${name} to answer /health`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${readFileSync(log, 'utf8')}`);
      return (await fetch(`http://127.0.0.1:${healthPort}/health`)).ok;
    },
    30_000,
  );
  return { child, log, exited };
}

test('the installed agent and cloud processor run with the example configs as installed (ports moved to free loopback ones) and deliver every reading; logs carry journal priorities', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const { root } = await install();
  const influxd = await startInfluxd();
  t.after(() => influxd.stop());
  const [sensors, cloudBroker, cloudHttp, agentHttp] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const cloud = await startAsUnit(
    root,
    'tributary-cloud',
    {
      TRIBUTARY_CLOUD_BROKER__PORT: String(cloudBroker),
      TRIBUTARY_CLOUD_HTTP__PORT: String(cloudHttp),
      TRIBUTARY_CLOUD_INFLUX__URL: influxd.url,
      TRIBUTARY_CLOUD_STATEDIR: join(root, 'var/lib/tributary-cloud'),
    },
    cloudHttp,
  );
  t.after(async () => {
    cloud.child.kill('SIGTERM');
    await cloud.exited;
  });
  const agent = await startAsUnit(
    root,
    'tributary-agent',
    {
      TRIBUTARY_AGENT_SOURCES__0__HOST: '127.0.0.1',
      TRIBUTARY_AGENT_SOURCES__0__PORT: String(sensors),
      TRIBUTARY_AGENT_UPLINK__URL: `mqtt://127.0.0.1:${cloudBroker}`,
      TRIBUTARY_AGENT_HTTP__PORT: String(agentHttp),
    },
    agentHttp,
  );
  t.after(() => agent.child.kill('SIGKILL'));

  const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${sensors}`);
  const readings = 600;
  const now = Date.now();
  for (let i = 0; i < readings; i++)
    await sensor.publishAsync(
      `sensors/th-${i % 30}/telemetry`,
      JSON.stringify({ device: `th-${i % 30}`, ts: now + i, seq: i, values: { temperature: 21 + (i % 5) / 10 } }),
      { qos: 1 },
    );
  await sensor.endAsync();
  await waitFor(
    'the agent to accept every reading',
    async () =>
      metric(await scrape(`http://127.0.0.1:${agentHttp}/metrics`), 'tributary_agent_readings_accepted_total') ===
      readings,
    20_000,
  );
  agent.child.kill('SIGTERM');
  assert.equal(await agent.exited, 0, readFileSync(agent.log, 'utf8'));
  await waitFor(
    'Σ count in InfluxDB to equal the readings sent',
    async () => {
      const series = await influxQuery(influxd.url, 'tributary', 'SELECT sum("count") FROM "temperature"');
      return Number(series[0]?.values[0]?.[1] ?? 0) === readings;
    },
    30_000,
  );
  // The installed processor serves its dashboard (its files come with the release) on its loopback address.
  const page = await fetch(`http://127.0.0.1:${cloudHttp}/dashboard/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Tributary<\/title>/);
  assert.equal(
    (await fetch(`http://127.0.0.1:${cloudHttp}/dashboard/vendor/uPlot.esm.js`)).status,
    200,
    "uPlot from the release's node_modules",
  );

  // Each line starts with the journal priority of its pino level: info as <6>, and so on.
  for (const file of [agent.log, cloud.log]) {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.ok(lines.length > 1);
    for (const line of lines) {
      const m = /^<(\d)>(\{.*\})$/.exec(line);
      assert.ok(m, `a line without its priority: ${line}`);
      assert.equal(Number(m[1]), journalPriority((JSON.parse(m[2]!) as { level: number }).level), line);
    }
  }
});

test('the Pi guide (docs/raspberry-pi.md) shows the example agent config install.sh puts in place', () => {
  const readme = readFileSync(join(repoRoot, 'docs', 'raspberry-pi.md'), 'utf8');
  const block = /`\/etc\/tributary\/agent\.yaml`[^\n]*\n+```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README shows /etc/tributary/agent.yaml');
  assert.equal(block[1], readFileSync(join(repoRoot, 'edge-agent/service/agent.example.yaml'), 'utf8'));
});
