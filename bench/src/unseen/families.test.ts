import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { FAMILIES } from './families.js';
import { falseAlarms } from './false-alarms.js';

const family = (name: string) => FAMILIES.find((f) => f.name === name)!;

test('each family is the same series for a seed, another for another seed, rows in time order', () => {
  for (const f of FAMILIES) {
    const a = f.series(7);
    assert.deepEqual(f.series(7), a, f.name);
    assert.notDeepEqual(f.series(8), a, f.name);
    for (let i = 1; i < a.length; i++) assert.ok(a[i]!.ts > a[i - 1]!.ts, `${f.name}: row ${i} in order`);
  }
});

test('the families have the traits they stand for: zeros, a coarse grid, gaps, few points', () => {
  const tweets = family('tweet counts').series(100);
  assert.ok(tweets.filter((r) => r.value === 0).length > tweets.length / 10, 'a quiet name has many zeros');
  assert.ok(tweets.every((r) => Number.isInteger(r.value)));
  const cpu = family('server cpu').series(101);
  assert.ok(cpu.every((r) => Math.abs(r.value * 15 - Math.round(r.value * 15)) < 1e-9 && r.value <= 100));
  const ads = family('ad exchange').series(102);
  assert.equal(ads.length, 1_600);
  assert.ok(
    ads.some((r, i) => i > 0 && r.ts - ads[i - 1]!.ts > 3_600_000),
    'some hours are missing',
  );
  const sensor = family('coarse sensor').series(103);
  assert.ok(new Set(sensor.map((r) => r.value)).size < 40, 'a few dozen distinct readings in four days');
});

test('false alarms are the opened alerts of the live path, per 1,000 points, named by the member that spoke', () => {
  const config = ProcessorConfigSchema.parse({});
  const r = falseAlarms(family('server cpu'), config, [100]);
  assert.equal(r.points, 4_032);
  assert.equal(
    [...r.byReason.values()].reduce((a, b) => a + b, 0),
    r.alerts,
  );
  assert.equal(r.perThousand, (1000 * r.alerts) / r.points);
  // Alerting only on points twice as surprising can only open fewer.
  const dull = ProcessorConfigSchema.parse({ detection: { sensitivity: 0.5 } });
  assert.ok(falseAlarms(family('server cpu'), dull, [100]).alerts < r.alerts);
});
