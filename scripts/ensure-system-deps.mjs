#!/usr/bin/env node
// Makes sure the Debian packages the tests need are installed: influxdb (influxd), mosquitto,
// socat and nats-server (the scale-out tests). Installs the missing ones with apt-get when running as root or with password-less sudo;
// otherwise prints the exact command to run and exits non-zero.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const needed = [
  { binary: 'influxd', pkg: 'influxdb' },
  { binary: 'mosquitto', pkg: 'mosquitto' },
  { binary: 'socat', pkg: 'socat' },
  { binary: 'nats-server', pkg: 'nats-server' },
];

function onPath(binary) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return dir !== '';
    } catch {
      return false;
    }
  });
}

const missing = needed.filter((n) => !onPath(n.binary)).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);

const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(' ')}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
const canSudo = !isRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;

if (!hasApt || (!isRoot && !canSudo)) {
  process.stderr.write(
    `The tests need these Debian packages, which are not installed: ${missing.join(', ')}.\n` +
      `Install them with:\n\n  sudo sh -c '${command}'\n\nthen run the tests again.\n`,
  );
  process.exit(1);
}

process.stderr.write(`Installing Debian packages the tests need: ${missing.join(', ')}\n`);
const argv = isRoot ? ['sh', '-c', command] : ['sudo', '-n', 'sh', '-c', command];
try {
  execFileSync(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
} catch {
  process.stderr.write(`Installing ${missing.join(', ')} failed; run this and try again:\n\n  sudo sh -c '${command}'\n`);
  process.exit(1);
}
const still = needed.filter((n) => !onPath(n.binary));
if (still.length > 0) {
  process.stderr.write(`Installed, but still not found on PATH: ${still.map((n) => n.binary).join(', ')}\n`);
  process.exit(1);
}
