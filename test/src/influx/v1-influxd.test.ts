import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LineBuilder } from '@tributary/cloud-processor';
import { influxQuery, startInfluxd, type Influxd } from '../harness/influxd.js';
import { waitFor } from '../harness/wait.js';
import { lines, writerFor } from './writer-rig.js';

/** The 1.x target against the real influxd: everything it can answer itself. */
let influxd: Influxd;
before(async () => {
  influxd = await startInfluxd();
});
after(() => influxd.stop());

const q = async (statement: string, db = ''): Promise<void> => {
  const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ db, q: statement })}`, { method: 'POST' });
  assert.equal(res.status, 200, await res.text());
};
const count = async (db: string, from: string): Promise<number> =>
  Number((await influxQuery(influxd.url, db, `SELECT count("count") FROM ${from}`))[0]?.values[0]?.[1] ?? 0);

test('v1: the encoder’s escaping survives the real influxd — tag values, string fields and floats read back verbatim', async (t) => {
  const { writer } = writerFor(t, { url: influxd.url, database: 'escapes' });
  await writer.ensureDatabase();
  const devices = ['dev 1,a=b', 'temperature,device=x value=1', `it's "quoted"`, 'капля 🍭', 'tab\there', 'a\\b'];
  const message = 'say "hi" \\o/, a=b';
  const b = new LineBuilder();
  const body = devices.map(
    (d, i) =>
      b
        .start('m e,x')
        .tag('device', d)
        .int('count', 1)
        .float('tiny', 1e-7)
        .float('huge', 1.5e21)
        .string('message', message)
        .end(1_700_000_000_000 + i)!,
  );
  await writer.write(body);
  const tags = (
    await influxQuery(influxd.url, 'escapes', 'SHOW TAG VALUES FROM "m e,x" WITH KEY = "device"')
  )[0]!.values.map((r) => r[1]);
  assert.deepEqual(
    [...tags].sort(),
    devices.map((d) => d.replace('\t', '\\t')).sort(),
    'every id is one tag value, as it was (a tab is written as \\t)',
  );
  const rows = (await influxQuery(influxd.url, 'escapes', 'SELECT "tiny", "huge", "message" FROM "m e,x"'))[0]!.values;
  assert.equal(rows.length, devices.length);
  for (const [, tiny, huge, msg] of rows) assert.deepEqual([tiny, huge, msg], [1e-7, 1.5e21, message]);
});

test('v1: a field type conflict — the refused points go to the dead letter with influxd’s reason, the rest are written', async (t) => {
  const { writer, dead, count: counted } = writerFor(t, { url: influxd.url, database: 'conflict' });
  await writer.ensureDatabase();
  const seed = new LineBuilder().start('humidity').tag('device', 'old').float('count', 1.5).end(1_699_999_999_000)!;
  await writer.write([seed]); // `count` is now a float field of humidity in this shard: integers conflict
  const reports = await Promise.all([
    writer.write(lines('temperature', 'a', 40)),
    writer.write([...lines('temperature', 'b', 10), ...lines('humidity', 'h', 3)]),
    writer.write(lines('pressure', 'p', 5)),
  ]);
  assert.deepEqual(
    reports.map((r) => r.deadLettered),
    [0, 3, 0],
  );
  assert.equal(await count('conflict', '"temperature"'), 50);
  assert.equal(await count('conflict', '"pressure"'), 5);
  assert.equal(await count('conflict', '"humidity"'), 1, 'only the seed');
  const d = dead();
  assert.deepEqual(d.map((r) => r.line).sort(), lines('humidity', 'h', 3).sort());
  assert.equal(d[0]!.status, 400);
  assert.match(
    d[0]!.reason,
    /^HTTP 400: partial write: field type conflict: input field "count" on measurement "humidity" is type integer, already exists as type float dropped=\d+$/,
  );
  assert.equal(counted('points_dead_lettered'), 3);
});

test('v1: points beyond the retention policy are dead-lettered; the retention policy is created on start', async (t) => {
  const { writer, dead } = writerFor(t, {
    url: influxd.url,
    database: 'retention',
    retentionPolicy: { name: 'day', duration: '1d', shardDuration: '1h' },
  });
  await writer.ensureDatabase();
  const policies = (await influxQuery(influxd.url, 'retention', 'SHOW RETENTION POLICIES ON "retention"'))[0]!;
  const day = policies.values.find((r) => r[0] === 'day');
  assert.ok(day, `created: ${JSON.stringify(policies.values)}`);
  assert.equal(day[policies.columns.indexOf('default')], true);
  await writer.ensureDatabase(); // idempotent
  const now = Date.now();
  const report = await writer.write([
    ...lines('temperature', 'new', 3, now - 60_000),
    ...lines('temperature', 'ancient', 2, now - 30 * 86_400_000),
  ]);
  assert.deepEqual(report, { deadLettered: 2, dropped: 0 });
  assert.equal(await count('retention', '"retention"."day"."temperature"'), 3);
  assert.match(dead()[0]!.reason, /points beyond retention policy/);
});

test('v1: a database dropped while running is created again (createDatabase true)', async (t) => {
  const { writer } = writerFor(t, { url: influxd.url, database: 'dropped' });
  await writer.ensureDatabase();
  await writer.write(lines('temperature', 'a', 2));
  await q('DROP DATABASE "dropped"');
  await writer.write(lines('temperature', 'b', 2));
  assert.equal(await count('dropped', '"temperature"'), 2);
});

test('v1: a missing database that may not be created blocks writes, loudly, until someone creates it', async (t) => {
  const { writer, count: counted } = writerFor(t, { url: influxd.url, database: 'absent', createDatabase: false });
  await writer.ensureDatabase(); // says so and returns: the processor starts, /health shows why nothing is acked
  let written = false;
  const pending = writer.write(lines('temperature', 'a', 2)).then(() => (written = true));
  await waitFor('writes to be refused', () => counted('write_refusals') >= 2, 10_000, 20);
  assert.equal(written, false);
  assert.deepEqual([writer.status().state, writer.status().status], ['blocked', 404]);
  assert.match(writer.status().reason ?? '', /database not found/);
  await q('CREATE DATABASE "absent"');
  await pending;
  assert.equal(writer.status().state, 'ok');
  assert.equal(await count('absent', '"temperature"'), 2);
});

test('v1: influxd killed — writes retry with backoff, nothing resolves; restarted — everything is written', async (t) => {
  const { writer, count: counted } = writerFor(t, {
    url: influxd.url,
    database: 'killed',
    gzip: 'always',
    gzipMinBytes: 0,
  });
  await writer.ensureDatabase();
  await influxd.kill();
  let written = false;
  const pending = writer.write(lines('temperature', 'a', 20)).then(() => (written = true));
  await waitFor('retries', () => counted('write_retries') >= 3, 10_000, 20);
  assert.equal(written, false);
  assert.equal(writer.status().state, 'retrying');
  await influxd.restart();
  await pending;
  assert.equal(await count('killed', '"temperature"'), 20, 'gzip bodies are accepted by influxd');
});
