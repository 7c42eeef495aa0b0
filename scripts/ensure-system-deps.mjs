#!/usr/bin/env node
// node scripts/ensure-system-deps.mjs start|test
//
// Makes sure the Debian packages an npm command needs are installed (scripts/system-deps.mjs
// lists them): `npm start` needs influxd unless INFLUX_URL is set; `npm test` needs influxd,
// mosquitto, socat, nats-server and openssl, and would like systemd-analyze and the ARM emulation. Installs the missing
// ones with apt-get, saying which and why, when running as root or with password-less sudo;
// otherwise prints the exact command to run. A missing required package is an error (exit 1); an
// optional one that cannot be installed is a warning, and the tests needing it skip, saying so.
import { execFileSync, spawnSync } from 'node:child_process';
import { missingNeeds } from './system-deps.mjs';

const command = process.argv[2] ?? 'test';
const missing = missingNeeds(command);
if (missing.length === 0) process.exit(0);

const packages = missing.map((n) => n.pkg);
const aptCommand = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(' ')}`;
const required = missing.filter((n) => !n.optional);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
const canSudo = !isRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
const describe = (needs) =>
  needs.map((n) => `  ${n.pkg.padEnd(24)} ${n.why}${n.optional ? ' (optional)' : ''}`).join('\n');

function giveUp(reason, needs) {
  process.stderr.write(
    `${reason}\n${describe(needs)}\nInstall them with:\n\n  sudo sh -c 'apt-get update && apt-get install -y ${needs.map((n) => n.pkg).join(' ')}'\n\n`,
  );
  if (needs.some((n) => !n.optional)) {
    process.stderr.write(`then run npm ${command} again.\n`);
    process.exit(1);
  }
  process.stderr.write('The tests that need them are skipped until then.\n');
  process.exit(0);
}

if (!hasApt || (!isRoot && !canSudo)) {
  giveUp(
    `npm ${command} needs these Debian packages, which are not installed${hasApt ? ' (installing them needs root or password-less sudo)' : ' (apt-get is not here: not Debian?)'}:`,
    missing,
  );
}

process.stderr.write(`npm ${command}: installing the Debian packages it needs with apt-get:\n${describe(missing)}\n`);
const argv = isRoot ? ['sh', '-c', aptCommand] : ['sudo', '-n', 'sh', '-c', aptCommand];
try {
  execFileSync(argv[0], argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
} catch {
  // One package apt cannot find fails the whole install: try the required ones alone.
  if (required.length > 0 && required.length < missing.length) {
    const requiredOnly = `apt-get install -y ${required.map((n) => n.pkg).join(' ')}`;
    spawnSync(argv[0], [...argv.slice(1, -1), requiredOnly], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
}
const still = missingNeeds(command);
if (still.length > 0) giveUp('Still missing after apt-get:', still);
