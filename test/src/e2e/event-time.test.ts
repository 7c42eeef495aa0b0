import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventTimeRig } from './event-time-rig.js';

const sum = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

test('a device stamping readings 55 s ahead makes no other device’s reading late, and the log names it', { timeout: 60_000 }, async (t) => {
  const rig = await EventTimeRig.start(t);
  const honest = ['th-1', 'th-2', 'th-3'];
  // Inside the default maxFutureMs (60 s): accepted, its windows closed by its own clock.
  await rig.play([...honest.map((device) => ({ device })), { device: 'fast', offsetMs: 55_000 }], 4_000, 40);
  await rig.received();
  const c = rig.agent.counters;
  assert.equal(c.get('readings_late'), 0, 'no reading was late');
  assert.equal(c.get('readings_accepted'), sum(rig.sent), 'every reading was accepted');
  await rig.stopAgent();
  const counts = await rig.until('InfluxDB to hold every reading', (m) => honest.every((d) => m.get(d) === rig.sent.get(d)) && m.get('fast') === rig.sent.get('fast'), Date.now(), 10_000);
  t.diagnostic(`sent ${JSON.stringify(Object.fromEntries(rig.sent))}, in InfluxDB after the stop within ${counts} ms`);
  const named = rig.warnings.filter((w) => w.startsWith('device clock ahead of the agent clock') && w.includes('\\"fast\\"'));
  assert.ok(named.length > 0, `the log names the fast device:\n${rig.warnings.join('\n')}`);
  assert.ok(!rig.warnings.some((w) => honest.some((d) => w.includes(`\\"${d}\\"`))), 'and no honest one');
});
