import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sensorKinds } from '@tributary/device-simulator';
import { influxQuery } from '../harness/influxd.js';
import { influxWindows } from '../harness/batch-observer.js';
import { waitFor } from '../harness/wait.js';
import { describeRun, FaultRig } from './rig.js';

const MAX_SPOOL_BYTES = 64 * 1024;

test('the uplink is down long enough to fill the spool: every missing reading was counted as dropped, oldest first, memory flat', {
  timeout: 120_000,
}, async (t) => {
  const rig = await FaultRig.start(t, {
    separateUplinkBroker: true,
    spool: { maxSpoolBytes: MAX_SPOOL_BYTES, segmentBytes: 16 * 1024, onFull: 'drop-oldest' },
  });
  await rig.play(30);
  await waitFor(
    'some batches written',
    async () => (await rig.cloud.metric('tributary_cloud_batches_written_total')) >= 3,
    20_000,
  );
  await rig.uplinkBroker.kill();
  await waitFor(
    'the spool to fill and drop',
    async () => (await rig.agent.metric('tributary_agent_batches_dropped_total')) >= 3,
    30_000,
  );
  const rssFull = await rig.agent.metric('tributary_agent_process_resident_memory_bytes');
  await waitFor(
    'many more drops',
    async () => (await rig.agent.metric('tributary_agent_batches_dropped_total')) >= 15,
    30_000,
  );
  const rssLater = await rig.agent.metric('tributary_agent_process_resident_memory_bytes');
  const spoolBytes = await rig.agent.metric('tributary_agent_spool_bytes');
  assert.ok(spoolBytes <= MAX_SPOOL_BYTES, `the spool stays within its bound (${spoolBytes} bytes)`);
  assert.ok(
    rssLater - rssFull < 10 * 1024 * 1024,
    `resident memory does not grow while dropping (${(rssFull / 2 ** 20).toFixed(1)} → ${(rssLater / 2 ** 20).toFixed(1)} MiB)`,
  );
  await rig.uplinkBroker.restart();
  const r = await rig.finish();
  const c = r.agentCounters;
  t.diagnostic(describeRun('uplink down until the spool filled', r, c.readings_accepted!, c.readings_dropped!));
  t.diagnostic(
    `batches dropped ${c.batches_dropped}; agent RSS ${(rssFull / 2 ** 20).toFixed(1)} MiB when the spool filled, ${(rssLater / 2 ** 20).toFixed(1)} MiB after 12 more drops`,
  );
  assert.ok(c.readings_dropped_unsent! > 0);
  // A batch dropped after it had been sent once may still have been written (its ack died with the
  // broker), or not: sent into the socket of a broker being killed, it reached no one, not even the
  // observer. So the never-sent drops are certainly missing, the sent drops the observer saw and
  // InfluxDB lacks are missing too, and nothing is missing beyond what was counted as dropped.
  const windows = await influxWindows((q) => influxQuery(rig.influxd.url, 'fault', q), Object.keys(sensorKinds));
  const sentButMissing = [...rig.observer.windowCounts()]
    .filter(([key]) => !windows.has(key))
    .reduce((n, [, count]) => n + count, 0);
  const missing = c.readings_accepted! - r.inInflux;
  t.diagnostic(
    `missing ${missing}; dropped unsent ${c.readings_dropped_unsent} readings; dropped after sending ${c.readings_dropped! - c.readings_dropped_unsent!}, of which ${sentButMissing} seen on the wire did not arrive`,
  );
  assert.ok(
    missing >= c.readings_dropped_unsent! + sentButMissing,
    `every reading dropped unsent, or seen on the wire and not written, is missing (${missing})`,
  );
  assert.ok(
    missing <= c.readings_dropped!,
    `nothing is missing that was not counted as dropped (${missing} > ${c.readings_dropped})`,
  );
  assert.ok(
    sentButMissing <= c.readings_dropped! - c.readings_dropped_unsent!,
    'and the sent-but-missing ones are among the counted drops',
  );

  // Oldest first: per series, the windows missing from InfluxDB are one stretch of time, the same for all series.
  const ends = new Map<string, number[]>();
  for (const key of windows.keys()) {
    const i = key.lastIndexOf('/');
    const series = key.slice(0, i);
    (ends.get(series) ?? ends.set(series, []).get(series)!).push(Number(key.slice(i + 1)));
  }
  const gaps = new Set<string>();
  for (const [series, list] of ends) {
    list.sort((a, b) => a - b);
    const holes: Array<[number, number]> = [];
    for (let i = 1; i < list.length; i++) if (list[i]! - list[i - 1]! > 10_000) holes.push([list[i - 1]!, list[i]!]);
    assert.equal(holes.length, 1, `${series}: one missing stretch (${JSON.stringify(holes)})`);
    gaps.add(JSON.stringify(holes[0]));
  }
  assert.equal(gaps.size, 1, 'the same stretch for every series');
});
