import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { decodeMessages, EntryKind } from './entries.js';
import { WriteAheadLog, type WalOptions } from './write-ahead-log.js';

function dirFor(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-wal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const options = (dir: string, extra: Partial<WalOptions> = {}): WalOptions => ({
  dir,
  maxWalBytes: 1 << 20,
  segmentBytes: 1 << 16,
  commitIntervalMs: 5,
  ...extra,
});
const marker = {
  complete: -Infinity,
  agentTs: -Infinity,
  forgottenFloor: -Infinity,
  clocks: [] as Array<[string, number]>,
};
/** A log, opened. */
function opened(o: WalOptions, onUnprotected: (readings: number, reason: string) => void): WriteAheadLog {
  const wal = new WriteAheadLog(o, onUnprotected);
  wal.open();
  return wal;
}
const committed = (wal: WriteAheadLog): Promise<void> => new Promise((resolve) => wal.afterCommit(resolve));

test('constructing a log makes and reads nothing: open() makes its directory and reads its segments', (t) => {
  const dir = join(dirFor(t), 'wal');
  const wal = new WriteAheadLog(options(dir), () => undefined);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(wal.open(), { segments: 0, bytes: 0, tornRecords: 0, problems: [] });
  assert.deepEqual(readdirSync(dir), ['0000000000000000.wal']);
  wal.close();
});

test('group commit: acknowledgements wait for the fdatasync of what came before them, in order; one line per message', async (t) => {
  const dir = dirFor(t);
  const wal = opened(options(dir), () => assert.fail('nothing unprotected'));
  const released: number[] = [];
  wal.afterCommit(() => released.push(0));
  assert.deepEqual(released, [0], 'nothing logged: released at once');
  wal.accepted('d,1 x', 'temperature', 1_700_000_000_123, 21.5, 1_700_000_000_200, 65_537);
  wal.accepted('d,1 x', 'humidity', 1_700_000_000_123, 40.25, 1_700_000_000_200, 65_537);
  wal.accepted('d2', 'temperature', 1_700_000_000_124, -3e-7, 1_700_000_000_201, 0);
  wal.afterCommit(() => released.push(1));
  wal.afterCommit(() => released.push(2));
  assert.deepEqual(released, [0], 'not before the commit');
  await committed(wal);
  assert.deepEqual(released, [0, 1, 2]);
  wal.close();
  const reopened = opened(options(dir), () => undefined);
  const entries = [...reopened.entries()];
  assert.deepEqual(
    entries.map((e) => e.kind),
    [EntryKind.readings],
  );
  assert.deepEqual(decodeMessages(entries[0]!.text), [
    {
      device: 'd,1 x',
      ts: 1_700_000_000_123,
      now: 1_700_000_000_200,
      origin: 65_537,
      readings: [
        ['temperature', 21.5],
        ['humidity', 40.25],
      ],
    },
    {
      device: 'd2',
      ts: 1_700_000_000_124,
      now: 1_700_000_000_201,
      origin: 0,
      readings: [['temperature', -3e-7]],
    },
  ]);
  reopened.close();
});

test('readings the range filter removed are logged in the order they came, without a value; a message is read back whole', async (t) => {
  const dir = dirFor(t);
  const wal = opened(options(dir), () => assert.fail('nothing unprotected'));
  const [ts, now] = [1_700_000_000_123, 1_700_000_000_200];
  wal.outOfRange('glitchy', 'co2', ts, now, 65_538);
  wal.accepted('d', 'temperature', ts, 21.5, now, 65_539);
  wal.outOfRange('d', 'co2', ts, now, 65_539);
  wal.accepted('d', 'humidity', ts, 40.25, now, 65_539);
  await committed(wal);
  wal.close();
  const reopened = opened(options(dir), () => undefined);
  t.after(() => reopened.close());
  const entries = [...reopened.entries()];
  assert.deepEqual(
    entries[0]!.text.split('\n').map((line) => line.split('\t').length),
    [5, 6, 5, 6, 1],
    'a removed reading is a line of five fields, which an agent that predates them skips',
  );
  assert.deepEqual(decodeMessages(entries[0]!.text), [
    { device: 'glitchy', ts, now, origin: 65_538, readings: [['co2', undefined]] },
    {
      device: 'd',
      ts,
      now,
      origin: 65_539,
      readings: [
        ['temperature', 21.5],
        ['co2', undefined],
        ['humidity', 40.25],
      ],
    },
  ]);
});

test('a log written before removed readings were logged reads back as it did', () => {
  const old = 'd\t1700000000123\t1700000000200\t0\tt\t1.5\tu\t2\n';
  assert.deepEqual(decodeMessages(old), [
    {
      device: 'd',
      ts: 1_700_000_000_123,
      now: 1_700_000_000_200,
      origin: 0,
      readings: [
        ['t', 1.5],
        ['u', 2],
      ],
    },
  ]);
});

test('a torn last record is cut off at open (its readings were never acknowledged); the records before it are read back', async (t) => {
  const dir = dirFor(t);
  const wal = opened(options(dir), () => undefined);
  for (let i = 0; i < 3; i++) {
    wal.accepted('d', 't', 1_700_000_000_000 + i, i, 1_700_000_000_000 + i, 0);
    await committed(wal);
  }
  wal.close();
  const [file] = readdirSync(dir);
  truncateSync(join(dir, file!), statSync(join(dir, file!)).size - 3);
  const reopened = opened(options(dir), () => undefined);
  assert.equal(reopened.opening.tornRecords, 1);
  assert.match(reopened.opening.problems[0]!, /torn write/);
  assert.equal([...reopened.entries()].length, 2);
  reopened.accepted('d', 't', 1_700_000_000_009, 9, 1_700_000_000_009, 0);
  reopened.close();
  assert.equal(
    [...opened(options(dir), () => undefined).entries()].length,
    3,
    'appends continue cleanly after the cut',
  );
});

test('at maxWalBytes readings are accepted (or counted out of range) but not logged, and counted', async (t) => {
  let unprotected = 0;
  const dir = dirFor(t);
  const wal = opened(options(dir, { maxWalBytes: 65_536, segmentBytes: 16_384 }), (n) => (unprotected += n));
  for (let i = 0; i < 4_000; i++) {
    const [device, ts] = [`device-${i % 50}`, 1_700_000_000_000 + i];
    if (i % 4 === 0) wal.outOfRange(device, 'co2', ts, ts, 0);
    else wal.accepted(device, 'temperature', ts, i, ts, 0);
    if (i % 100 === 99) await committed(wal);
  }
  await committed(wal);
  assert.ok(unprotected > 0, `some readings were not logged (${unprotected})`);
  assert.ok(wal.bytes <= 65_536, `the log stays within its bound (${wal.bytes} bytes)`);
  wal.close();
  const reopened = opened(options(dir), () => undefined);
  t.after(() => reopened.close());
  let logged = 0;
  for (const e of reopened.entries()) for (const m of decodeMessages(e.text)) logged += m.readings.length;
  assert.equal(logged + unprotected, 4_000, 'every reading is either in the log or counted unprotected');
});

test('segments roll at markers, each new one headed by a full marker; trim deletes those no open window needs', async (t) => {
  const dir = dirFor(t);
  const wal = opened(options(dir, { segmentBytes: 4_096, maxWalBytes: 1 << 20 }), () => undefined);
  for (let seq = 0; seq < 20; seq++) {
    for (let i = 0; i < 30; i++) wal.accepted(`d${i}`, 't', 1_700_000_000_000 + seq, i, 1_700_000_000_000 + seq, 0);
    wal.marker({ seq, ...marker }, () => ({ ...marker, clocks: [['d1', 1_700_000_000_000]] }));
  }
  const segments = readdirSync(dir).length;
  assert.ok(segments > 3, `rolled (${segments} segments)`);
  wal.trim(wal.gen - 1);
  assert.equal(readdirSync(dir).length, 2, 'kept from the segment still needed');
  assert.equal(wal.segmentCount, 2);
  wal.trim(Infinity);
  assert.equal(wal.segmentCount, 1, 'never past the last full marker');
  const first = [...wal.entries()][0]!;
  assert.equal(first.kind, EntryKind.marker);
  assert.match(first.text, /"full":true/);
  wal.close();
});
