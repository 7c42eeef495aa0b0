import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

interface Need {
  readonly pkg: string;
  readonly optional?: boolean;
}
const root = fileURLToPath(new URL('../../../', import.meta.url));
const { missingNeeds } = (await import(new URL('../../../scripts/system-deps.mjs', import.meta.url).href)) as {
  missingNeeds(
    command: string,
    env: Record<string, string | undefined>,
    isPresent: (check: string) => boolean,
    arch?: string,
  ): Need[];
};
const nothingInstalled = (): boolean => false;

test('npm start needs influxd unless INFLUX_URL points at an InfluxDB', () => {
  assert.deepEqual(
    missingNeeds('start', {}, nothingInstalled).map((n) => n.pkg),
    ['influxdb'],
  );
  assert.deepEqual(missingNeeds('start', { INFLUX_URL: 'http://127.0.0.1:8086' }, nothingInstalled), []);
  assert.deepEqual(
    missingNeeds('start', {}, () => true),
    [],
  );
});

test('npm test needs influxd, mosquitto, socat, nats-server and openssl, and would like systemd-analyze, chromium, prometheus and ARM emulation', () => {
  const missing = missingNeeds('test', {}, nothingInstalled, 'x64');
  assert.deepEqual(
    missing.filter((n) => !n.optional).map((n) => n.pkg),
    ['influxdb', 'mosquitto', 'socat', 'nats-server', 'openssl'],
  );
  for (const pkg of ['systemd', 'chromium', 'prometheus', 'qemu-user-static', 'libc6-arm64-cross', 'libc6-armhf-cross'])
    assert.ok(
      missing.some((n) => n.pkg === pkg && n.optional),
      pkg,
    );
  // On a Pi the agent runs natively: no emulator to install.
  assert.deepEqual(
    missingNeeds('test', {}, nothingInstalled, 'arm64')
      .filter((n) => n.optional)
      .map((n) => n.pkg),
    ['systemd', 'chromium', 'prometheus'],
  );
});

test('npm start and npm test run the check first, each for its own needs', () => {
  const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  assert.match(scripts.prestart ?? '', /^node scripts\/ensure-system-deps\.mjs start(\s|$)/);
  assert.match(scripts.pretest ?? '', /^node scripts\/ensure-system-deps\.mjs test(\s|$)/);
});

test('with what npm start needs in place, the check says nothing and lets it run', () => {
  // This machine ran npm test's own check before this test, so influxd is here; with INFLUX_URL set it is not even looked for.
  for (const env of [{}, { INFLUX_URL: 'http://127.0.0.1:8086' }]) {
    const r = spawnSync(process.execPath, ['scripts/ensure-system-deps.mjs', 'start'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  }
});
