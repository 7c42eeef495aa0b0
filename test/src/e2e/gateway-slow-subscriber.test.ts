import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { slowSubscriber } from '../harness/mqtt-raw.js';
import { freePort } from '../harness/ports.js';
import { NodeService } from '../harness/processes.js';
import { scratchDir } from '../harness/scratch.js';
import { waitFor } from '../harness/wait.js';

const SENSORS = 10;
const READINGS_PER_S = 3_000;
/** Long enough to fill the kernel's socket buffers on the way to the slow subscriber (~3 MB here) and then some. */
const SECONDS = 20;

test("a subscriber to the gateway's broker that never reads slows no sensor: at 3,000 readings/s none is late, and what it missed is counted", {
  timeout: 180_000,
}, async (t) => {
  const dir = scratchDir('slow-subscriber');
  const port = await freePort();
  const agent = await NodeService.agent(dir, {
    agentId: 'gw-slow',
    sources: [{ type: 'mqtt-broker', host: '127.0.0.1', port }],
    uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` }, // no cloud: this is about intake
    stateDir: join(dir, 'agent'),
    reportIntervalMs: 500,
  });
  t.after(() => agent.stop(5_000));
  const slow = await slowSubscriber(port, 'sensors/#', 1);
  t.after(() => slow.stop());
  const sensors = await Promise.all(
    Array.from({ length: SENSORS }, (_, i) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `sensor-${i}` }),
    ),
  );
  t.after(() => Promise.all(sensors.map((s) => s.endAsync(true))));

  // Each reading is stamped when it is published, as a sensor with a clock does.
  const total = READINGS_PER_S * SECONDS;
  let sent = 0;
  let acked = 0;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const pace = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - started) * READINGS_PER_S) / 1000));
      for (; sent < due; sent++) {
        const device = `s${sent % SENSORS}`;
        const reading = JSON.stringify({ device, ts: Date.now(), values: { temperature: 20 + (sent % 7) } });
        void sensors[sent % SENSORS]!.publishAsync(`sensors/${device}/telemetry`, reading, { qos: 1 }).then(
          () => acked++,
        );
      }
      if (sent === total) {
        clearInterval(pace);
        resolve();
      }
    }, 5);
  });
  const ackedInTime = await waitFor('the broker to acknowledge every reading', () => acked === total, 20_000).catch(
    () => false,
  );
  await waitFor(
    'the agent to take every reading it was sent',
    async () => (await agent.metric('tributary_agent_messages_received_total')) === acked,
    10_000,
  ).catch(() => false);
  const late = await agent.metric('tributary_agent_readings_late_total');
  t.diagnostic(
    `${acked} of ${total} readings acknowledged ${((Date.now() - started) / 1000).toFixed(1)} s after the first; ${late} late, ${await agent.metric('tributary_agent_readings_accepted_total')} accepted`,
  );
  assert.ok(ackedInTime, `the sensors were held back: ${acked} of ${total} readings acknowledged`);
  await waitFor(
    'the agent to accept every reading',
    async () => (await agent.metric('tributary_agent_readings_accepted_total')) === total,
    20_000,
  );
  assert.equal(await agent.metric('tributary_agent_readings_late_total'), 0, 'no reading was late');

  const drops = await agent.metric('tributary_agent_broker_subscriber_drops_total');
  t.diagnostic(`${drops} messages dropped for the subscriber that does not read`);
  assert.ok(drops > 0, 'the messages the slow subscriber could not take are counted');
  await waitFor('the drops in the problem report, naming the subscriber', () =>
    agent.output
      .split('\n')
      .some((l) => l.includes('broker_subscriber_drops') && l.includes(`slow-subscriber-${port}`)),
  );
});
