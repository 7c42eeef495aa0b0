import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Influx2Server, type RefusalStyle } from '../harness/influx2.js';
import { waitFor } from '../harness/wait.js';
import { lines, writerFor } from './writer-rig.js';

/**
 * The 2.x/3.x write API target against a local server that checks what InfluxDB 2.x checks and
 * answers as it does, for the answers the real 1.6 influxd cannot give (429, 413, 2.x bodies).
 */
async function rig(t: TestContext, config: Record<string, unknown> = {}) {
  const server = await Influx2Server.start();
  t.after(() => server.close());
  const w = writerFor(t, {
    api: 'v2',
    url: server.url,
    org: server.org,
    bucket: server.bucket,
    token: server.token,
    ...config,
  });
  return { server, ...w };
}

test('v2: POST /api/v2/write with org, bucket, precision=ms and the token; gzip when asked', async (t) => {
  const { server, writer } = await rig(t, { gzip: 'always', gzipMinBytes: 0 });
  assert.deepEqual(await writer.write(lines('temperature', 'a', 50)), { deadLettered: 0, dropped: 0 });
  assert.equal(server.points.size, 50);
  assert.deepEqual(
    server.writes.map((w) => [w.status, w.gzipped]),
    [[204, true]],
  );
});

test('v2: gzip auto leaves small bodies and loopback alone', async (t) => {
  const { server, writer } = await rig(t, { gzip: 'auto', gzipMinBytes: 0 });
  await writer.write(lines('temperature', 'a', 5));
  assert.deepEqual(
    server.writes.map((w) => w.gzipped),
    [false],
    'InfluxDB on this host: compressing would only cost CPU',
  );
});

for (const style of ['2.7', '3.x', 'whole-request'] as RefusalStyle[]) {
  test(`v2: refused points (${style} answer) go to the dead letter with the reason; the rest is written and acked`, async (t) => {
    const { server, writer, dead, count } = await rig(t);
    server.refusalStyle = style;
    server.refuse = (l) => l.startsWith('humidity,device=bad');
    const reports = await Promise.all([
      writer.write(lines('temperature', 'a', 30)),
      writer.write([...lines('humidity', 'ok', 10), ...lines('humidity', 'bad', 2)]),
      writer.write(lines('humidity', 'b', 7)),
    ]);
    assert.deepEqual(
      reports.map((r) => r.deadLettered),
      [0, 2, 0],
    );
    assert.equal(server.points.size, 47, 'every other point is in InfluxDB');
    const d = dead();
    assert.deepEqual(d.map((r) => r.line).sort(), lines('humidity', 'bad', 2).sort());
    assert.match(d[0]!.reason, style === 'whole-request' ? /unable to parse/ : /partial write: field type conflict/);
    assert.equal(d[0]!.status, style === '2.7' ? 422 : 400);
    assert.equal(count('points_dead_lettered'), 2);
  });
}

test('v2: 401 stops acking, loudly in status and counters, and recovers once the token is right', async (t) => {
  const { server, writer, count } = await rig(t);
  server.token = 'rotated';
  let written = false;
  const pending = writer.write(lines('temperature', 'a', 3)).then(() => (written = true));
  await waitFor('refusals', () => count('write_refusals') >= 2, 5_000, 10);
  assert.equal(written, false, 'nothing acked');
  assert.equal(writer.status().state, 'blocked');
  assert.equal(writer.status().status, 401);
  assert.match(writer.status().reason ?? '', /unauthorized access/);
  server.token = 'secret-token'; // what the writer presents: the credentials are fixed
  await pending;
  assert.equal(server.points.size, 3);
  assert.equal(writer.status().state, 'ok');
});

test('v2: a missing bucket (404) blocks like bad credentials', async (t) => {
  const server = await Influx2Server.start();
  t.after(() => server.close());
  const { writer, count } = writerFor(t, {
    api: 'v2',
    url: server.url,
    org: server.org,
    bucket: 'nope',
    token: server.token,
  });
  void writer.write(lines('temperature', 'a', 1)).catch(() => undefined);
  await waitFor('a refusal', () => count('write_refusals') >= 1, 5_000, 10);
  assert.deepEqual([writer.status().state, writer.status().status], ['blocked', 404]);
  assert.match(writer.status().reason ?? '', /bucket "nope" not found/);
});

test('v2: 413 splits the request until it fits, and later requests start smaller', async (t) => {
  const { server, writer, count } = await rig(t, { batch: { maxLines: 400 } });
  server.maxLines = 60;
  await writer.write(lines('temperature', 'a', 400));
  assert.equal(server.points.size, 400);
  assert.ok(count('write_splits') >= 3);
  const tooLarge = server.writes.filter((w) => w.status === 413).length;
  await writer.write(lines('temperature', 'b', 400));
  assert.equal(server.points.size, 800);
  assert.ok(server.writes.filter((w) => w.status === 413).length - tooLarge < tooLarge, 'fewer 413s the second time');
});

test('v2: 429 with Retry-After is retried no sooner than the server asked', async (t) => {
  const { server, writer, count } = await rig(t);
  server.script.push({
    status: 429,
    headers: { 'retry-after': '1' },
    body: { code: 'too many requests', message: 'rate limited' },
  });
  await writer.write(lines('temperature', 'a', 3));
  const [refused, accepted] = server.writes;
  assert.deepEqual([refused!.status, accepted!.status], [429, 204]);
  assert.ok(accepted!.at - refused!.at >= 990, `retried after ${accepted!.at - refused!.at} ms`);
  assert.equal(count('write_retries'), 1);
});

test('v2: 503 is retried with backoff until it is written', async (t) => {
  const { server, writer, count } = await rig(t);
  for (let i = 0; i < 3; i++)
    server.script.push({ status: 503, body: { code: 'unavailable', message: 'service unavailable' } });
  await writer.write(lines('temperature', 'a', 3));
  assert.equal(server.points.size, 3);
  assert.equal(count('write_retries'), 3);
  assert.equal(writer.status().state, 'ok');
});
