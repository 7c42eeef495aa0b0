import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { SpoolRecovery } from './batch-queue.js';
import { DiskSpool, spoolBytesOnDisk, type DiskSpoolOptions } from './disk-spool.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const options = (dir: string, more: Partial<DiskSpoolOptions> = {}): DiskSpoolOptions => ({
  dir,
  maxSpoolBytes: 1 << 20,
  segmentBytes: 2048,
  onFull: 'drop-oldest',
  fsync: 'per-batch',
  fsyncIntervalMs: 1000,
  ...more,
});

/** A spool, opened, with what it found then. */
function opened(o: DiskSpoolOptions): DiskSpool & { readonly recovery: SpoolRecovery } {
  const spool = new DiskSpool(o);
  return Object.assign(spool, { recovery: spool.open() });
}

function fill(spool: DiskSpool, n: number, readings = 5): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const seq = spool.nextSeq();
    spool.append({ seq, windows: 1, readings }, JSON.stringify({ seq, pad: 'p'.repeat(300) }));
    seqs.push(seq);
  }
  return seqs;
}

test('constructing a spool makes and reads nothing: its directory is made and read by open()', (t) => {
  const dir = join(tempDir(t), 'spool');
  const spool = new DiskSpool(options(dir));
  assert.equal(existsSync(dir), false);
  spool.close(); // nothing to release
  assert.equal(existsSync(dir), false);
  assert.equal(spool.open().unacked, 0);
  assert.deepEqual(readdirSync(dir), ['cursor.json']);
  spool.close();
});

test('after a restart only unacked batches come back, in order, and seqs continue', (t) => {
  const dir = tempDir(t);
  const a = opened(options(dir));
  const seqs = fill(a, 20);
  for (const seq of [0, 1, 2, 5, 7]) a.remove(seq);
  a.close();
  const b = opened(options(dir));
  assert.deepEqual(
    b.oldest(100).map((x) => x.seq),
    seqs.filter((s) => ![0, 1, 2, 5, 7].includes(s)),
  );
  assert.equal(b.recovery.tornRecords, 0);
  assert.equal(b.nextSeq(), 20);
  b.close();
});

test('a crash without close still recovers (the cursor may be stale: acked batches are only re-sent)', (t) => {
  const dir = tempDir(t);
  const a = opened(options(dir));
  fill(a, 10);
  a.remove(0);
  // No close(): the process died. Everything appended is on disk (fsync per batch).
  const b = opened(options(dir));
  const back = b.oldest(100).map((x) => x.seq);
  assert.deepEqual(
    back.filter((s) => s !== 0),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(b.nextSeq(), 10);
  b.close();
  // The crashed instance's cursor timer still runs in this process: stop it before the directory
  // is removed, or it fails the next test file's run with ENOENT (seen under load).
  a.close();
});

test('a cursor save that fails in the background (directory gone, disk full) is reported, not thrown from the timer', async (t) => {
  const dir = tempDir(t);
  const errors: Error[] = [];
  const spool = opened(options(dir, { fsyncIntervalMs: 20, onBackgroundError: (err) => errors.push(err) }));
  fill(spool, 3);
  spool.remove(0);
  rmSync(dir, { recursive: true, force: true });
  const deadline = Date.now() + 5_000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.match(errors[0]?.message ?? '', /ENOENT/);
  spool.remove(1); // it goes on taking acks
});

test('a torn last record is detected by its checksum, reported, cut off, and everything before it is kept', (t) => {
  const dir = tempDir(t);
  const a = opened(options(dir, { segmentBytes: 1 << 16 }));
  fill(a, 6);
  a.close();
  const [segment] = readdirSync(dir).filter((f) => f.endsWith('.seg'));
  const path = join(dir, segment!);
  truncateSync(path, statSync(path).size - 50);
  const b = opened(options(dir, { segmentBytes: 1 << 16 }));
  assert.equal(b.recovery.tornRecords, 1);
  assert.match(b.recovery.problems[0]!, /torn write/);
  assert.deepEqual(
    b.oldest(100).map((x) => x.seq),
    [0, 1, 2, 3, 4],
  );
  assert.equal(b.payload(4), JSON.stringify({ seq: 4, pad: 'p'.repeat(300) }));
  // Appends continue cleanly after the cut, and the lost seq is not reused for a different batch…
  const [next] = fill(b, 1);
  assert.ok(next! >= 5);
  b.close();
  const c = opened(options(dir, { segmentBytes: 1 << 16 }));
  assert.equal(c.recovery.tornRecords, 0, '…and the spool is whole again');
  assert.deepEqual(
    c.oldest(100).map((x) => x.seq),
    [0, 1, 2, 3, 4, next],
  );
  c.close();
});

test('a flipped byte inside a record fails its checksum', (t) => {
  const dir = tempDir(t);
  const a = opened(options(dir, { segmentBytes: 1 << 16 }));
  fill(a, 3);
  a.close();
  const [segment] = readdirSync(dir).filter((f) => f.endsWith('.seg'));
  const path = join(dir, segment!);
  const bytes = readFileSync(path);
  bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
  writeFileSync(path, bytes);
  const b = opened(options(dir, { segmentBytes: 1 << 16 }));
  assert.equal(b.recovery.tornRecords, 1);
  assert.match(b.recovery.problems[0]!, /checksum mismatch/);
  assert.deepEqual(
    b.oldest(100).map((x) => x.seq),
    [0, 1],
  );
  b.close();
});

test('at the byte bound, drop-oldest drops whole batches from the oldest and stays within the bound', (t) => {
  const dir = tempDir(t);
  const spool = opened(options(dir, { maxSpoolBytes: 16 * 1024, segmentBytes: 2048 }));
  const dropped: number[] = [];
  for (let i = 0; i < 200; i++) {
    const seq = spool.nextSeq();
    for (const d of spool.append({ seq, windows: 1, readings: 5 }, JSON.stringify({ seq, pad: 'p'.repeat(300) })))
      dropped.push(d.seq);
    assert.ok(spoolBytesOnDisk(dir) <= 16 * 1024, `on disk ${spoolBytesOnDisk(dir)} ≤ bound`);
  }
  const kept = spool.oldest(1000).map((x) => x.seq);
  assert.equal(dropped.length + kept.length, 200, 'every batch is either kept or counted as dropped');
  assert.deepEqual(
    [...dropped, ...kept],
    Array.from({ length: 200 }, (_, i) => i),
    'the dropped ones are the oldest',
  );
  spool.close();
});

test('at the byte bound, reject-new keeps the old batches and refuses the new one', (t) => {
  const dir = tempDir(t);
  const spool = opened(options(dir, { maxSpoolBytes: 8 * 1024, segmentBytes: 2048, onFull: 'reject-new' }));
  let rejected = 0;
  for (let i = 0; i < 100; i++) {
    const seq = spool.nextSeq();
    const d = spool.append({ seq, windows: 1, readings: 5 }, JSON.stringify({ seq, pad: 'p'.repeat(300) }));
    if (d.length > 0) {
      assert.deepEqual(
        d.map((x) => x.seq),
        [seq],
      );
      rejected++;
    }
  }
  assert.ok(rejected > 0);
  assert.equal(spool.oldest(1)[0]?.seq, 0, 'the oldest batch is still there');
  spool.close();
});

test('acked segments are deleted from disk', (t) => {
  const dir = tempDir(t);
  const spool = opened(options(dir, { segmentBytes: 1024 }));
  const seqs = fill(spool, 30);
  const before = readdirSync(dir).filter((f) => f.endsWith('.seg')).length;
  for (const s of seqs) spool.remove(s);
  const after = readdirSync(dir).filter((f) => f.endsWith('.seg')).length;
  assert.ok(before > 3 && after <= 1, `segments ${before} → ${after}`);
  spool.close();
  const again = opened(options(dir, { segmentBytes: 1024 }));
  assert.equal(again.size, 0);
  assert.equal(again.nextSeq(), 30, 'the next seq survives even with every segment gone');
  again.close();
});
