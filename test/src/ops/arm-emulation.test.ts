import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runAgentToInflux } from '../harness/agent-rig.js';
import { armRuntime, armTargets } from '../harness/arm-emulation.js';
import { startInfluxd } from '../harness/influxd.js';

const run = promisify(execFile);
const bindings = fileURLToPath(new URL('../../../node_modules/@serialport/bindings-cpp', import.meta.url));
const gypBuild = fileURLToPath(new URL('../../../node_modules/node-gyp-build', import.meta.url));

for (const target of armTargets) {
  const runtime = await armRuntime(target);
  const skip = 'unavailable' in runtime ? `cannot emulate ${target.pi}: ${runtime.unavailable}` : false;

  test(`${target.pi} (${target.arch}, emulated): the serial binding's prebuilt binary loads, the agent reads a serial port and MQTT, and Σ count in InfluxDB equals what was sent`, {
    skip,
    timeout: 180_000,
  }, async (t) => {
    if ('unavailable' in runtime) return;
    const node = [...runtime.args];
    const { stdout: arch } = await run(runtime.command, [...node, '-p', 'process.arch + " " + process.version'], {
      env: { ...process.env, ...runtime.env },
    });
    assert.equal(arch.trim(), `${target.arch === 'armv7l' ? 'arm' : 'arm64'} v${target.nodeVersion}`);
    // The install script of @serialport/bindings-cpp is not run (allowScripts): its prebuilds must fit.
    const { stdout: prebuild } = await run(
      runtime.command,
      [...node, '-p', `require(${JSON.stringify(gypBuild)}).path(${JSON.stringify(bindings)})`],
      { env: { ...process.env, ...runtime.env } },
    );
    assert.match(
      prebuild.trim(),
      target.arch === 'arm64'
        ? /prebuilds\/linux-arm64\/.*armv8\.glibc\.node$/
        : /prebuilds\/linux-arm\/.*armv7\.glibc\.node$/,
    );

    const influxd = await startInfluxd();
    t.after(() => influxd.stop());
    const r = await runAgentToInflux({
      agent: runtime,
      influxUrl: influxd.url,
      database: `arm_${target.arch}`,
      series: 500,
      mqttReadings: 2_000,
      serialReadings: 300,
      startTimeoutMs: 90_000,
    });
    t.diagnostic(
      `${runtime.label}: ${r.sent} readings (500 series over MQTT, 20 over serial), agent RSS ${r.agentRssMb.toFixed(0)} MB (emulator included), ${Math.round(r.readingsPerS)} readings/s`,
    );
    assert.equal(r.accepted, r.sent, 'readings the agent accepted');
    assert.equal(r.inInflux, r.sent, 'Σ count in InfluxDB');
  });
}
