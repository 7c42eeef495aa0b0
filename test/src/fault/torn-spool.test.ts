import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sensorKinds } from '@tributary/device-simulator';
import { decodeRecordAt } from '@tributary/edge-agent';
import { decodeBatch } from '@tributary/firmware-schemas';
import { influxWindows } from '../harness/batch-observer.js';
import { influxQuery } from '../harness/influxd.js';
import { waitFor } from '../harness/wait.js';
import { FaultRig } from './rig.js';

test('a spool file cut inside its last record: the agent starts, reports the torn record, delivers everything before it and rebuilds the torn batch from its write-ahead log', {
  timeout: 120_000,
}, async (t) => {
  const rig = await FaultRig.start(t, { separateUplinkBroker: true });
  await rig.play(15);
  await rig.uplinkBroker.kill();
  await waitFor(
    'batches to wait in the spool',
    async () => (await rig.agent.metric('tributary_agent_queued_batches')) >= 5,
    20_000,
  );
  await rig.agent.kill();

  // Read the spool as the agent left it, then tear its last record as a power cut would.
  const dir = join(rig.dir, 'agent', 'state', 'spool');
  const segments = readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();
  const records: Array<{ seq: number; windows: Map<string, number> }> = [];
  for (const f of segments) {
    const bytes = readFileSync(join(dir, f));
    for (let offset = 0; offset < bytes.length; ) {
      const r = decodeRecordAt(bytes, offset);
      assert.ok(r.ok, 'the spool is intact before the damage');
      const batch = decodeBatch(bytes.subarray(r.payloadOffset, r.payloadOffset + r.payloadLength));
      assert.ok(batch.ok);
      records.push({
        seq: r.meta.seq,
        windows: new Map(batch.value.windows.map((w) => [`${w.metric}/${w.device}/${w.end}`, w.count])),
      });
      offset += r.size;
    }
  }
  const last = join(dir, segments.at(-1)!);
  truncateSync(last, statSync(last).size - 7);
  const torn = records.at(-1)!;
  const before = records.slice(0, -1);

  await rig.uplinkBroker.restart();
  await rig.agent.start();
  assert.equal(await rig.agent.metric('tributary_agent_spool_torn_records_total'), 1, 'the torn record is counted');
  const report = rig.agent.logs('spool: skipped damaged records (torn writes)')[0];
  assert.ok(report, 'and reported in the log');
  assert.match(String((report.problems as string[])[0]), /torn write/);

  await rig.finish();
  const windows = await influxWindows((q) => influxQuery(rig.influxd.url, 'fault', q), Object.keys(sensorKinds));
  let delivered = 0;
  for (const r of before) {
    for (const [key, count] of r.windows) {
      assert.equal(windows.get(key), count, `window ${key} of spooled batch ${r.seq} is in InfluxDB with its count`);
      delivered += count;
    }
  }
  // The log's marker for the torn batch names a batch the spool does not hold: its windows were rebuilt.
  for (const [key, count] of torn.windows)
    assert.equal(
      windows.get(key),
      count,
      `window ${key} of the torn batch is in InfluxDB, rebuilt from the write-ahead log`,
    );
  t.diagnostic(
    `torn spool: ${records.length} batches spooled while the uplink was down, ${before.length} delivered with ${delivered} readings, 1 torn (${[...torn.windows.values()].reduce((a, b) => a + b, 0)} readings rebuilt from the write-ahead log)`,
  );
});
