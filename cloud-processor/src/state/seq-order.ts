/**
 * Which of an agent's batches have been through detection, in seq order: the highest seq below
 * which every batch has been seen, plus the few seen above it. A batch is "in order" when every
 * earlier one (of its agent and epoch) has been seen; only then may its watermark let detection
 * judge silence, or a batch overtaken by its successor (HTTP retries, resends) would make series
 * look silent. Bounded: at most `maxAhead` seqs held per agent (beyond it the gap is given up) and
 * `maxAgents` agents (least recently active forgotten).
 */
export class SeqOrder {
  private readonly agents = new Map<string, { epoch: number; upTo: number; ahead: Set<number> }>();

  constructor(
    private readonly maxAgents = 100_000,
    private readonly maxAhead = 64,
  ) {}

  /** Records that `seq` went through detection; true when every earlier seq had already. */
  see(agent: string, epoch: number, seq: number): boolean {
    let a = this.agents.get(agent);
    if (a) this.agents.delete(agent);
    else if (this.agents.size >= this.maxAgents) this.agents.delete(this.agents.keys().next().value as string);
    if (!a || a.epoch !== epoch) a = { epoch, upTo: seq - 1, ahead: new Set() }; // first seen: nothing to wait for
    this.agents.set(agent, a);
    if (seq <= a.upTo) return true; // an old gap filled late: its watermark is behind anyway
    if (seq !== a.upTo + 1) {
      a.ahead.add(seq);
      if (a.ahead.size > this.maxAhead) this.giveUp(a);
      return false;
    }
    a.upTo = seq;
    while (a.ahead.delete(a.upTo + 1)) a.upTo++;
    return true;
  }

  /** The missing batch is not coming (it was dropped at the agent's bound): move past the gap. */
  private giveUp(a: { upTo: number; ahead: Set<number> }): void {
    a.upTo = Math.min(...a.ahead);
    a.ahead.delete(a.upTo);
    while (a.ahead.delete(a.upTo + 1)) a.upTo++;
  }
}
