import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { BatchQueue } from './batch-queue.js';
import { DiskSpool } from './disk-spool.js';
import { MemoryBatchQueue } from './memory-queue.js';
import { SeqStore } from './seq-store.js';

const payloadOf = (seq: number): string => JSON.stringify({ seq, windows: [{ pad: 'x'.repeat(200) }] });

function append(q: BatchQueue, n: number): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const seq = q.nextSeq();
    q.append({ seq, windows: 1, readings: 10 }, payloadOf(seq));
    seqs.push(seq);
  }
  return seqs;
}

/** The behaviour every BatchQueue must have (STYLE: one contract suite, every implementation). */
function describeBatchQueueContract(name: string, make: (dir: string) => BatchQueue): void {
  describe(`BatchQueue contract: ${name}`, () => {
    const withQueue = (fn: (q: BatchQueue) => void) => () => {
      const dir = mkdtempSync(join(tmpdir(), 'tributary-queue-'));
      const q = make(dir);
      q.open();
      try {
        fn(q);
      } finally {
        q.close();
        rmSync(dir, { recursive: true, force: true });
      }
    };
    test(
      'seqs increase and the oldest come first',
      withQueue((q) => {
        const seqs = append(q, 5);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
        assert.equal(new Set(seqs).size, 5);
        assert.deepEqual(
          q.oldest(3).map((b) => b.seq),
          seqs.slice(0, 3),
        );
        assert.equal(q.size, 5);
      }),
    );
    test(
      'asking for the next seq does not use it up; appending does',
      withQueue((q) => {
        assert.equal(q.nextSeq(), q.nextSeq());
        const [seq] = append(q, 1);
        assert.equal(q.nextSeq(), seq! + 1);
      }),
    );
    test(
      'a payload comes back as it went in',
      withQueue((q) => {
        const [seq] = append(q, 1);
        assert.equal(q.payload(seq!), payloadOf(seq!));
      }),
    );
    test(
      'removing an acked batch frees it, once',
      withQueue((q) => {
        const seqs = append(q, 3);
        assert.equal(q.remove(seqs[1]!), true);
        assert.equal(q.remove(seqs[1]!), false);
        assert.deepEqual(
          q.oldest(10).map((b) => b.seq),
          [seqs[0], seqs[2]],
        );
        assert.equal(q.payload(seqs[1]!), undefined);
      }),
    );
  });
}

describeBatchQueueContract(
  'disk spool',
  (dir) =>
    new DiskSpool({
      dir,
      maxSpoolBytes: 1 << 20,
      segmentBytes: 4096,
      onFull: 'drop-oldest',
      fsync: 'per-batch',
      fsyncIntervalMs: 1000,
    }),
);
describeBatchQueueContract(
  'memory queue',
  (dir) => new MemoryBatchQueue(100, 'drop-oldest', new SeqStore(join(dir, 'seq.json'))),
);
