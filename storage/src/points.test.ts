import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchEnvelope, WindowResult } from '@tributary/firmware-schemas';
import { PointEncoder } from './points.js';

const window = (device: string, metric: string): WindowResult => ({ device, metric, start: 1_700_000_000_000, end: 1_700_000_060_000, count: 3, sum: 63, min: 20, max: 22, mean: 21, m2: 2, first: 20, last: 22, firstTs: 1_700_000_000_000, lastTs: 1_700_000_000_001, rev: 0 });
const envelope = (windows: WindowResult[]): BatchEnvelope => ({ v: 1, agent: 'gw', site: 'plant-a', epoch: 0, seq: 1, sentAt: 1_700_000_061_000, windows, counters: { readings_accepted: 9 } });

test('metrics named like Object methods are measurements like any other, and take no unit they were not given', () => {
  const encoder = new PointEncoder({ temperature: '°C' });
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'temperature'];
  const { lines, unencodable } = encoder.batch(envelope(names.map((m) => window('p', m))), []);
  assert.deepEqual(unencodable, []);
  assert.deepEqual(
    lines.slice(0, names.length).map((l) => l.split(/(?<!\\) /)[0]),
    [...names.slice(0, -1).map((m) => `${m},agent=gw,device=p,site=plant-a`), 'temperature,agent=gw,device=p,site=plant-a,unit=°C'],
  );
  assert.match(lines.at(-1)!, /^agent_stats,agent=gw,site=plant-a readings_accepted=9i /);
});

test('a point that throws while encoded is set aside with its reason and whose it is; the others are encoded', () => {
  // An empty metric name cannot pass the batch schema; here it stands for any point the encoder cannot carry.
  const bad = window('dev 2', '');
  const { lines, unencodable } = new PointEncoder().batch(envelope([window('dev 1', 'temperature'), bad, window('dev 3', 'humidity')]), []);
  assert.deepEqual(
    lines.map((l) => l.split(/(?<!\\) /)[0]),
    ['temperature,agent=gw,device=dev\\ 1,site=plant-a', 'humidity,agent=gw,device=dev\\ 3,site=plant-a', 'agent_stats,agent=gw,site=plant-a'],
  );
  assert.equal(unencodable.length, 1);
  assert.match(unencodable[0]!.reason, /^cannot encode as line protocol: .*must not be empty/);
  assert.equal(unencodable[0]!.series, 'agent gw device "dev 2" metric ');
  assert.deepEqual(unencodable[0]!.point, { measurement: '', agent: 'gw', site: 'plant-a', window: bad });
});
