import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BATCH_MS, EventTimeRig, LATENESS_MS, WINDOW_MS } from './event-time-rig.js';

const sum = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

test('a device stamping readings 55 s ahead makes no other device’s reading late, and the log names it', {
  timeout: 60_000,
}, async (t) => {
  const rig = await EventTimeRig.start(t);
  const honest = ['th-1', 'th-2', 'th-3'];
  // Inside the default maxFutureMs (60 s): accepted, its windows closed by its own clock.
  await rig.play([...honest.map((device) => ({ device })), { device: 'fast', offsetMs: 55_000 }], 4_000, 40);
  await rig.received();
  const c = rig.agent.counters;
  assert.equal(c.get('readings_late'), 0, 'no reading was late');
  assert.equal(c.get('readings_accepted'), sum(rig.sent), 'every reading was accepted');
  await rig.stopAgent();
  const counts = await rig.until(
    'InfluxDB to hold every reading',
    (m) => honest.every((d) => m.get(d) === rig.sent.get(d)) && m.get('fast') === rig.sent.get('fast'),
    Date.now(),
    10_000,
  );
  t.diagnostic(`sent ${JSON.stringify(Object.fromEntries(rig.sent))}, in InfluxDB after the stop within ${counts} ms`);
  const named = rig.warnings.filter(
    (w) => w.startsWith('device clock ahead of the agent clock') && w.includes('\\"fast\\"'),
  );
  assert.ok(named.length > 0, `the log names the fast device:\n${rig.warnings.join('\n')}`);
  assert.ok(!rig.warnings.some((w) => honest.some((d) => w.includes(`\\"${d}\\"`))), 'and no honest one');
});

/**
 * What may pass after a window is due besides the batch interval: the agent's 100 ms timer, the
 * trip through the broker to the cloud, the cloud's write batching (100 ms) and InfluxDB, and this
 * test's polling.
 */
const DELIVERY_ALLOWANCE_MS = 1_000;
const ON_TIME_MS = WINDOW_MS + LATENESS_MS + BATCH_MS + DELIVERY_ALLOWANCE_MS;

test('a burst, then silence: every accepted reading is in InfluxDB within window + lateness + one batch interval, the agent still running', {
  timeout: 60_000,
}, async (t) => {
  const rig = await EventTimeRig.start(t);
  await rig.play(
    ['a', 'b', 'c', 'd', 'e'].map((device) => ({ device })),
    3_000,
    30,
  );
  const lastReading = Date.now();
  await rig.received();
  const accepted = rig.agent.counters.get('readings_accepted');
  assert.equal(accepted, sum(rig.sent));
  const took = await rig.until(
    'Σ count in InfluxDB to equal the readings accepted',
    (m) => sum(m) === accepted,
    lastReading,
    ON_TIME_MS,
  );
  t.diagnostic(
    `${accepted} readings, all in InfluxDB ${took} ms after the last (bound ${ON_TIME_MS} ms: window ${WINDOW_MS} + lateness ${LATENESS_MS} + batch ${BATCH_MS} + delivery ${DELIVERY_ALLOWANCE_MS})`,
  );
});

test('a device that idles and resumes is counted once: its idle windows closed by the clock, its new ones by its readings', {
  timeout: 60_000,
}, async (t) => {
  const rig = await EventTimeRig.start(t);
  await rig.play([{ device: 'd' }], 1_500, 30);
  const first = rig.sent.get('d')!;
  await rig.until('the first stretch in InfluxDB', (m) => m.get('d') === first, Date.now(), ON_TIME_MS + 1_000);
  await rig.play([{ device: 'd' }], 1_500, 30);
  await rig.received();
  await rig.until(
    'both stretches in InfluxDB',
    (m) => m.get('d') === rig.sent.get('d'),
    Date.now(),
    ON_TIME_MS + 1_000,
  );
  const c = rig.agent.counters;
  assert.equal(c.get('readings_late'), 0);
  assert.equal(c.get('readings_accepted'), rig.sent.get('d'));
  const written = await rig.windowsInInflux();
  assert.equal(
    c.get('windows_emitted'),
    written.size,
    'every window was emitted once (a second emission would overwrite the first in InfluxDB)',
  );
  await rig.stopAgent();
  assert.equal(sum(await rig.countsInInflux()), rig.sent.get('d'), 'and the stop adds nothing twice');
});

test('one busy and one quiet device: the quiet one’s windows are written on time while the busy one goes on', {
  timeout: 60_000,
}, async (t) => {
  const rig = await EventTimeRig.start(t);
  const busy = rig.play([{ device: 'busy' }], 8_000, 30);
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let i = 0; i < 5; i++) await rig.publish('quiet');
    const lastQuiet = Date.now();
    const took = await rig.until(
      'the quiet device’s readings in InfluxDB',
      (m) => m.get('quiet') === 5,
      lastQuiet,
      ON_TIME_MS,
    );
    t.diagnostic(`quiet device's windows in InfluxDB ${took} ms after its last reading (bound ${ON_TIME_MS} ms)`);
    assert.ok(Date.now() < lastQuiet + 7_000, 'while the busy device is still publishing');
  } finally {
    await busy;
  }
});
