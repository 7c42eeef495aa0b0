import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InfluxConfig, type InfluxConfig as Config } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { DeadLetterFile } from './dead-letter.js';
import { AuthError, PartialWriteError, RetryableError, TooLargeError, WriteAbortedError } from './errors.js';
import type { Body } from './http-client.js';
import type { WriteTarget } from './target.js';
import { InfluxWriter, type WriterCounter } from './writer.js';

/**
 * The writer's logic against a scripted target (the WriteTarget interface, not a server): what
 * it coalesces, how many requests it keeps in flight, how it singles out refused points. The same
 * answers over HTTP, from the real influxd and a local 2.x-like server, are in test/src/influx.
 */
class ScriptedTarget implements WriteTarget {
  readonly description = 'scripted';
  readonly canCreate = false;
  readonly requests: string[][] = [];
  /** Whether each request's body was gzipped. */
  readonly gzipped: boolean[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Answers a request: undefined is a 204, an error is thrown. */
  answer: (lines: string[]) => Error | undefined | Promise<Error | undefined> = () => undefined;

  async ensure(): Promise<void> {}
  close(): void {}

  async write(body: Body, gzipped: boolean): Promise<void> {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.concat(body);
    const lines = (gzipped ? gunzipSync(bytes) : bytes).toString().split('\n');
    this.gzipped.push(gzipped);
    this.requests.push(lines);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const err = await this.answer(lines);
      if (err) throw err;
    } finally {
      this.inFlight--;
    }
  }
}

/** Resolves once `check` holds; fails the test after `timeoutMs`. */
async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(t: TestContext, config: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const target = new ScriptedTarget();
  const counts = new Map<WriterCounter, number>();
  const deadLetter = new DeadLetterFile(join(dir, 'dead.jsonl'), 1 << 20);
  const writer = new InfluxWriter({
    target,
    config: InfluxConfig.parse({ retry: { initialMs: 10, maxMs: 20 }, blockedRetryMs: 50, ...config }) as Config,
    deadLetter,
    log: silentLogger,
    count: (name, by = 1) => counts.set(name, (counts.get(name) ?? 0) + by),
  });
  t.after(() => writer.abort());
  const deadLines = (): Array<{ line: string; reason: string; status: number }> =>
    readFileSync(deadLetter.path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: string; reason: string; status: number });
  return { target, writer, counts, deadLines };
}

const lines = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `m,d=${prefix} v=${i} ${i + 1}`);

test('lines of several batches submitted together go out in one request', async (t) => {
  const { target, writer } = setup(t);
  await Promise.all([writer.write(lines('a', 3)), writer.write(lines('b', 2)), writer.write(lines('c', 1))]);
  assert.equal(target.requests.length, 1);
  assert.equal(target.requests[0]!.length, 6);
});

test('gzip always compresses every body, however small; never compresses none', async (t) => {
  const always = setup(t, { gzip: 'always' });
  await always.writer.write(lines('a', 2));
  assert.deepEqual(always.target.gzipped, [true]);
  assert.deepEqual(always.target.requests[0], lines('a', 2));
  const never = setup(t, { gzip: 'never', gzipMinBytes: 0 });
  await never.writer.write(lines('b', 2));
  assert.deepEqual(never.target.gzipped, [false]);
});

test('requests hold at most batch.maxLines lines, and at most maxInFlightRequests are in flight', async (t) => {
  const { target, writer } = setup(t, { batch: { maxLines: 10 }, maxInFlightRequests: 3 });
  target.answer = () => new Promise((r) => setTimeout(() => r(undefined), 5));
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.write(lines(`b${i}`, 7))));
  assert.equal(target.requests.flat().length, 140);
  assert.ok(target.requests.every((r) => r.length <= 10));
  assert.equal(target.maxInFlight, 3);
});

test('while requests are in flight a part-filled request waits for batch.flushIntervalMs', async (t) => {
  const { target, writer } = setup(t, { batch: { maxLines: 1000, flushIntervalMs: 150 }, maxInFlightRequests: 4 });
  let release!: () => void;
  const gate = new Promise<undefined>((r) => (release = () => r(undefined)));
  target.answer = (l) => (l[0]!.includes('d=slow') ? gate : undefined);
  const slow = writer.write(lines('slow', 1));
  await new Promise((r) => setImmediate(r));
  const started = Date.now();
  await writer.write(lines('late', 1));
  assert.ok(Date.now() - started >= 140, `waited ${Date.now() - started} ms for more lines`);
  release();
  await slow;
});

test('refused points are singled out by halving; they go to the dead letter with the reason, the rest is acked', async (t) => {
  const { target, writer, counts, deadLines } = setup(t);
  const reason =
    'HTTP 400: partial write: field type conflict: input field "count" on measurement "m" is type float, already exists as type integer dropped=2';
  target.answer = (l) =>
    l.some((x) => x.includes('bad'))
      ? new PartialWriteError(reason, 400, l.filter((x) => x.includes('bad')).length)
      : undefined;
  const batches = [lines('ok1', 20), [...lines('ok2', 5), 'm,d=bad v=1 9', ...lines('ok3', 5)], ['m,d=bad v=2 9']];
  const reports = await Promise.all(batches.map((b) => writer.write(b)));
  assert.deepEqual(reports, [
    { deadLettered: 0, dropped: 0 },
    { deadLettered: 1, dropped: 0 },
    { deadLettered: 1, dropped: 0 },
  ]);
  assert.deepEqual(
    deadLines().map((d) => [d.line, d.reason, d.status]),
    [
      ['m,d=bad v=1 9', reason, 400],
      ['m,d=bad v=2 9', reason, 400],
    ].sort(),
  );
  const accepted = target.requests.filter((r) => !r.some((x) => x.includes('bad'))).flat();
  assert.equal(new Set(accepted).size, 30, 'every good line was accepted at least once');
  assert.equal(counts.get('points_dead_lettered'), 2);
  assert.ok((counts.get('write_splits') ?? 0) >= 2);
});

test('when the server says every point of a request was dropped, they are dead-lettered without halving', async (t) => {
  const { target, writer, deadLines } = setup(t);
  target.answer = (l) =>
    new PartialWriteError('HTTP 400: partial write: points beyond retention policy dropped=' + l.length, 400, l.length);
  assert.deepEqual(await writer.write(lines('old', 8)), { deadLettered: 8, dropped: 0 });
  assert.equal(target.requests.length, 1);
  assert.equal(deadLines().length, 8);
});

test('413 splits the request and keeps later requests smaller; a single line too large is dead-lettered', async (t) => {
  const { target, writer, counts, deadLines } = setup(t, { batch: { maxLines: 64 } });
  target.answer = (l) =>
    l.length > 10 || l.some((x) => x.includes('huge'))
      ? new TooLargeError('HTTP 413: request too large', 413)
      : undefined;
  assert.deepEqual(await writer.write(lines('a', 64)), { deadLettered: 0, dropped: 0 });
  const before = target.requests.length;
  await writer.write(lines('b', 64));
  assert.ok(target.requests.length - before < before, 'the second batch needed fewer tries: requests start smaller');
  assert.deepEqual(await writer.write(['m,d=huge v=1 1']), { deadLettered: 1, dropped: 0 });
  assert.match(deadLines()[0]!.reason, /413/);
  assert.ok((counts.get('write_splits') ?? 0) > 0);
});

test('a retryable answer is retried no sooner than its Retry-After', async (t) => {
  const { target, writer, counts } = setup(t);
  const at: number[] = [];
  target.answer = () => {
    at.push(Date.now());
    return at.length === 1 ? new RetryableError('HTTP 429: slow down', 429, 300) : undefined;
  };
  await writer.write(lines('a', 1));
  assert.equal(at.length, 2);
  assert.ok(at[1]! - at[0]! >= 290, `retried after ${at[1]! - at[0]!} ms`);
  assert.equal(counts.get('write_retries'), 1);
  assert.equal(writer.status().state, 'ok');
});

test('401 blocks: nothing resolves, the status says why, and it recovers once the credentials work', async (t) => {
  const { target, writer, counts } = setup(t);
  let authorized = false;
  target.answer = () => (authorized ? undefined : new AuthError('HTTP 401: unauthorized access', 401));
  let done = false;
  const written = writer.write(lines('a', 2)).then(() => (done = true));
  await until('two refusals', () => (counts.get('write_refusals') ?? 0) >= 2);
  assert.equal(done, false);
  assert.deepEqual([writer.status().state, writer.status().status], ['blocked', 401]);
  authorized = true;
  await written;
  assert.equal(writer.status().state, 'ok');
});

test('the backlog is bounded: room() waits until lines are durable', async (t) => {
  const { target, writer } = setup(t, { maxBufferedLines: 10 });
  let release!: () => void;
  const gate = new Promise<undefined>((r) => (release = () => r(undefined)));
  target.answer = () => gate;
  const first = writer.write(lines('a', 10));
  let roomy = false;
  const room = writer.room().then(() => (roomy = true));
  await until('the request to be on the wire', () => target.inFlight === 1);
  await new Promise((r) => setImmediate(r)); // room() would have resolved by now if it were going to
  assert.equal(roomy, false, 'full: the processor takes no more batches');
  assert.equal(writer.bufferedLines, 10);
  release();
  await Promise.all([first, room]);
  assert.equal(writer.bufferedLines, 0);
});

test('the backlog is bounded in bytes too: room() waits while maxBufferedBytes of lines are not durable', async (t) => {
  const { target, writer } = setup(t, { maxBufferedLines: 1_000_000, maxBufferedBytes: 1024 });
  let release!: () => void;
  const gate = new Promise<undefined>((r) => (release = () => r(undefined)));
  target.answer = () => gate;
  // 40 lines of about 43 bytes: over 1,024 bytes, far under the lines bound.
  const long = Array.from({ length: 40 }, (_, i) => `m,device=a-rather-long-device-name-${i} v=${i} ${i}`);
  const first = writer.write(long);
  let roomy = false;
  const room = writer.room().then(() => (roomy = true));
  await until('the request to be on the wire', () => target.inFlight === 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(roomy, false, 'full in bytes: the processor takes no more batches');
  assert.ok(writer.bufferedBytes > 1024, `${writer.bufferedBytes} bytes buffered`);
  release();
  await Promise.all([first, room]);
  assert.equal(writer.bufferedBytes, 0);
});

test('lines waiting to be durable are kept as bytes only: the strings they were given as are let go of at once', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { target, writer } = setup(t);
  let release!: () => void;
  const gate = new Promise<undefined>((r) => (release = () => r(undefined)));
  target.answer = () => gate;
  const given: Array<WeakRef<string[]>> = [];
  const written = ((): Array<Promise<unknown>> =>
    [1, 2, 3, 4, 5].map((n) => {
      const group = lines(`g${n}-`, 100);
      given.push(new WeakRef(group));
      return writer.write(group);
    }))();
  await until('a request on the wire', () => target.inFlight >= 1);
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(writer.bufferedLines, 500, 'none durable yet');
  assert.equal(given.filter((r) => r.deref() !== undefined).length, 0, 'groups of lines still held as strings');
  release();
  await Promise.all(written);
  assert.deepEqual(target.requests.flat().sort(), [1, 2, 3, 4, 5].flatMap((n) => lines(`g${n}-`, 100)).sort());
});

test('abort rejects what is not durable yet with WriteAbortedError', async (t) => {
  const { target, writer } = setup(t);
  target.answer = () => new Promise(() => undefined);
  const pending = writer.write(lines('a', 3));
  await new Promise((r) => setImmediate(r));
  writer.abort();
  await assert.rejects(pending, WriteAbortedError);
  await assert.rejects(writer.write(lines('b', 1)), WriteAbortedError);
});
