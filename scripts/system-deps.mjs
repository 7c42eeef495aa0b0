// What each npm command needs from Debian, and how to tell whether it is there. Read by
// ensure-system-deps.mjs (which installs what is missing) and by its test.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * `check` is an executable looked up on PATH (and the sbin directories Debian puts daemons in) or
 * an absolute path that must exist. Optional needs serve tests that skip, saying so, without them;
 * `arch` limits a need to hosts of that architecture (ARM is emulated on x86-64 only).
 */
export const NEEDS = {
  start: [
    {
      pkg: 'influxdb',
      check: 'influxd',
      why: 'InfluxDB 1.x for the demo (not needed when INFLUX_URL is set)',
      unless: 'INFLUX_URL',
    },
  ],
  test: [
    { pkg: 'influxdb', check: 'influxd', why: 'InfluxDB 1.x' },
    { pkg: 'mosquitto', check: 'mosquitto', why: 'an external MQTT broker' },
    { pkg: 'socat', check: 'socat', why: 'serial pseudo-terminal pairs' },
    { pkg: 'nats-server', check: 'nats-server', why: 'NATS JetStream for the scale-out tests' },
    { pkg: 'openssl', check: 'openssl', why: 'a private CA and certificates for the TLS tests' },
    { pkg: 'systemd', check: 'systemd-analyze', why: 'checking the systemd units', optional: true },
    { pkg: 'chromium', check: 'chromium', why: 'a headless browser for the dashboard tests', optional: true },
    {
      pkg: 'prometheus',
      check: 'prometheus',
      why: "running the Grafana dashboard's Prometheus panels",
      optional: true,
    },
    {
      pkg: 'qemu-user-static',
      check: 'qemu-aarch64-static',
      why: 'running the agent on emulated ARM',
      optional: true,
      arch: 'x64',
    },
    {
      pkg: 'libc6-arm64-cross',
      check: '/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1',
      why: 'the C library of 64-bit ARM',
      optional: true,
      arch: 'x64',
    },
    {
      pkg: 'libstdc++6-arm64-cross',
      check: '/usr/aarch64-linux-gnu/lib/libstdc++.so.6',
      why: 'the C++ library of 64-bit ARM',
      optional: true,
      arch: 'x64',
    },
    {
      pkg: 'libc6-armhf-cross',
      check: '/usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3',
      why: 'the C library of 32-bit ARM',
      optional: true,
      arch: 'x64',
    },
    {
      pkg: 'libstdc++6-armhf-cross',
      check: '/usr/arm-linux-gnueabihf/lib/libstdc++.so.6',
      why: 'the C++ library of 32-bit ARM',
      optional: true,
      arch: 'x64',
    },
    {
      pkg: 'libatomic1-armhf-cross',
      check: '/usr/arm-linux-gnueabihf/lib/libatomic.so.1',
      why: 'the atomics library Node needs on 32-bit ARM',
      optional: true,
      arch: 'x64',
    },
  ],
};

/** Whether `check` (a command on PATH or an absolute path) is there. */
export function present(check, env = process.env) {
  const candidates = check.startsWith('/')
    ? [check]
    : [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin']
        .filter((d) => d !== '')
        .map((d) => join(d, check));
  const mode = check.startsWith('/') ? constants.R_OK : constants.X_OK;
  return candidates.some((path) => {
    try {
      accessSync(path, mode);
      return true;
    } catch {
      return false;
    }
  });
}

/** The needs of `command` ('start' or 'test') that are missing, in the table's order. */
export function missingNeeds(
  command,
  env = process.env,
  isPresent = (check) => present(check, env),
  arch = process.arch,
) {
  const needs = NEEDS[command];
  if (needs === undefined)
    throw new Error(`unknown command ${JSON.stringify(command)} (one of ${Object.keys(NEEDS).join(', ')})`);
  return needs.filter(
    (n) =>
      (n.arch === undefined || n.arch === arch) && !(n.unless !== undefined && env[n.unless]) && !isPresent(n.check),
  );
}
