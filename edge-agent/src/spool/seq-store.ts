import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Hands out the agent's batch `seq`, monotonically increasing across restarts. The cloud drops a
 * batch whose (agent, seq) it has already written, so reusing a seq after a crash would lose data.
 * Seqs are reserved in blocks: the end of the current block is persisted (write, fsync, rename)
 * before any seq in it is used, so after a crash the agent resumes at the next block. The skipped
 * seqs show up at the cloud as a gap, which is harmless.
 */
export class SeqStore {
  private next = 0;
  private reservedEnd = 0;
  private createdAt = 0;

  /** Reads nothing: the file is read by `open`. */
  constructor(
    private readonly file: string,
    private readonly blockSize = 1000,
  ) {}

  /** Reads where the last run stopped (a missing file is a first start). Once, before `take`. */
  open(): void {
    let start = 0;
    let epoch = 0;
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as { nextBlock?: unknown; epoch?: unknown };
      if (typeof saved.nextBlock === 'number' && Number.isSafeInteger(saved.nextBlock) && saved.nextBlock >= 0)
        start = saved.nextBlock;
      if (typeof saved.epoch === 'number' && Number.isSafeInteger(saved.epoch)) epoch = saved.epoch;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`cannot read seq state ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    this.next = start;
    this.reservedEnd = start;
    this.createdAt = epoch || Date.now();
  }

  /** When this store was first created (known once opened). */
  get epoch(): number {
    return this.createdAt;
  }

  take(): number {
    if (this.next >= this.reservedEnd) this.reserve(this.next + this.blockSize);
    return this.next++;
  }

  /** The seq `take` would give next, without giving it. */
  peek(): number {
    return this.next;
  }

  /** Marks every seq up to `seq` as given (a batch with it was appended). */
  advancePast(seq: number): void {
    while (this.next <= seq) this.take();
  }

  private reserve(end: number): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ nextBlock: end, epoch: this.epoch }));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    this.reservedEnd = end;
  }
}
