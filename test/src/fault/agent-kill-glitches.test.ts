import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasReadings, topics, type AgentConfigInput } from '@tributary/firmware-schemas';
import mqtt from 'mqtt';
import { BatchObserver } from '../harness/batch-observer.js';
import { startMosquitto } from '../harness/mosquitto.js';
import { NodeService } from '../harness/processes.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';

const WINDOW_MS = 10_000;

test('SIGKILL with a window of out-of-range readings only still open: after the restart it is sent as count 0 with its outOfRange', {
  timeout: 90_000,
}, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const dir = scratchDir('kill-glitches');
  const stateDir = join(dir, 'state');
  const config: AgentConfigInput = {
    agentId: 'gw-glitches',
    sources: [{ type: 'mqtt', url: broker.url, session: 'persistent' }],
    filters: { co2: [{ type: 'range', min: 0, max: 10_000 }] },
    // Ten minutes before an idle device's windows close by the agent clock: only readings close them here.
    windows: { lengthMs: WINDOW_MS, allowedLatenessMs: 1_000, idleAfterMs: 600_000 },
    batch: { maxDelayMs: 100 },
    uplink: { type: 'mqtt', url: broker.url, ackTimeoutMs: 3_000 },
    spool: { type: 'disk' },
    stateDir,
  };
  const agent = await NodeService.agent(dir, config);
  t.after(() => agent.kill());
  const observer = await BatchObserver.start(broker.url);
  t.after(() => observer.stop());
  const devices = await mqtt.connectAsync(broker.url, { clientId: `devices-${process.pid}`, clean: true });
  t.after(() => devices.endAsync(true));
  const publish = (device: string, ts: number, co2: number, qos: 0 | 1) =>
    devices.publishAsync(topics.telemetry(device), JSON.stringify({ device, ts, values: { co2 } }), { qos });

  // An hour ago, so no window closes by the agent clock while the test runs.
  const start = Math.floor((Date.now() - 3_600_000) / WINDOW_MS) * WINDOW_MS;
  // Until the agent has subscribed: a reading in range of another device.
  await waitFor(
    'the agent to receive telemetry',
    async () => {
      if ((await agent.metric('tributary_agent_messages_received_total')) >= 1) return true;
      await publish('env-ok', start + 500, 420, 1);
      return false;
    },
    20_000,
    1_000,
  );
  // Three glitches of one sensor in the window [start, start + 10 s), then one more reading in range
  // of the other device. QoS 0: the broker will not deliver them again, only the agent's log has them.
  for (const offset of [1_000, 2_000, 3_000]) await publish('glitchy', start + offset, 65_535, 0);
  await publish('env-ok', start + 4_000, 421, 0);
  await waitFor(
    'the write-ahead log to hold the last reading (so what came before it)',
    () =>
      readdirSync(join(stateDir, 'wal')).some((f) =>
        readFileSync(join(stateDir, 'wal', f)).includes(`env-ok\t${start + 4_000}\t`),
      ),
    10_000,
  );
  assert.equal(await agent.metric('tributary_agent_filtered_range_total'), 3);
  assert.equal(observer.seqs.size, 0, 'no window has closed yet');

  await agent.kill();
  await agent.start();
  // Readings two windows on close both devices' first windows.
  await publish('glitchy', start + 2 * WINDOW_MS + 5_000, 430, 1);
  await publish('env-ok', start + 2 * WINDOW_MS + 5_000, 422, 1);
  const ok = await waitFor(
    "env-ok's first window on the uplink",
    () => observer.window('co2', 'env-ok', start + WINDOW_MS),
    20_000,
  );
  assert.ok(ok.count >= 2, `its readings logged before the kill were put back (${ok.count})`);
  const glitches = observer.window('co2', 'glitchy', start + WINDOW_MS);
  assert.ok(glitches, "the glitching sensor's window was sent after the restart, in the same batch or before");
  assert.deepEqual(
    { count: glitches.count, outOfRange: glitches.outOfRange, values: hasReadings(glitches) },
    { count: 0, outOfRange: 3, values: false },
  );
  const [recovered] = agent.logs('write-ahead log: put back the readings of windows not yet spooled');
  assert.equal(recovered?.outOfRange, 3, 'the agent says it put the glitches back');
});
