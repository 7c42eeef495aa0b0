import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * The spool's ack cursor, persisted in a small JSON file: every seq below `ackedBelow` is acked
 * (or dropped), plus the acked seqs above it (acks can arrive out of order with several batches in
 * flight), plus `nextSeq`, whether the last stop was clean and the spool's epoch. It is saved lazily — on a timer,
 * before a segment is deleted and at close — because a stale cursor only makes the agent send some
 * acked batches again, which the cloud answers as duplicates.
 */
export class AckCursor {
  private readonly ackedAbove = new Set<number>();
  private dirty = false;
  /** When this spool was first created; kept for the spool's lifetime. */
  epoch = 0;

  constructor(private readonly path: string) {}

  load(): { nextSeq: number; clean: boolean; isAcked: (seq: number) => boolean } {
    let saved: { nextSeq?: unknown; ackedBelow?: unknown; acked?: unknown; clean?: unknown; epoch?: unknown } = {};
    try {
      saved = JSON.parse(readFileSync(this.path, 'utf8')) as typeof saved;
    } catch {
      // Missing or unreadable: everything in the spool counts as unacked and is sent again.
    }
    const int = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
    const ackedBelow = int(saved.ackedBelow);
    this.epoch = int(saved.epoch) || Date.now();
    const acked = new Set(
      Array.isArray(saved.acked) ? saved.acked.filter((x): x is number => typeof x === 'number') : [],
    );
    for (const seq of acked) if (seq >= ackedBelow) this.ackedAbove.add(seq);
    return {
      nextSeq: int(saved.nextSeq),
      clean: saved.clean === true,
      isAcked: (seq) => seq < ackedBelow || acked.has(seq),
    };
  }

  /** Records an ack; `firstUnacked` is the lowest seq still held after it. */
  acked(seq: number, firstUnacked: number): void {
    if (seq >= firstUnacked) this.ackedAbove.add(seq);
    this.dirty = true;
  }

  /** Notes that nextSeq moved. */
  touch(): void {
    this.dirty = true;
  }

  saveIfChanged(nextSeq: number, firstUnacked: number): void {
    if (this.dirty) this.save(nextSeq, firstUnacked, false);
  }

  /** Writes the cursor atomically (write a temporary file, then rename it over the old one). */
  save(nextSeq: number, firstUnacked: number, clean: boolean): void {
    for (const seq of this.ackedAbove) if (seq < firstUnacked) this.ackedAbove.delete(seq);
    const tmp = `${this.path}.tmp`;
    writeFileSync(
      tmp,
      JSON.stringify({ epoch: this.epoch, nextSeq, ackedBelow: firstUnacked, acked: [...this.ackedAbove], clean }),
    );
    renameSync(tmp, this.path);
    this.dirty = false;
  }
}
