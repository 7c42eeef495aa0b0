/**
 * Which (agent, seq) batches were already written. Bounded: per agent, the highest seq seen and
 * the set of seqs seen within `windowSize` below it; anything older than that window counts as
 * seen (an agent sends oldest first with few batches in flight, so a batch that far behind was
 * written long ago). Agents beyond `maxAgents` evict the least recently active one.
 */
export class Dedupe {
  private readonly agents = new Map<string, { max: number; seen: Set<number> }>();

  constructor(
    private readonly windowSize: number,
    private readonly maxAgents = 100_000,
  ) {}

  has(agent: string, seq: number): boolean {
    const a = this.agents.get(agent);
    if (!a) return false;
    return seq <= a.max - this.windowSize || a.seen.has(seq);
  }

  /** Records a written batch. Call only after its points are durable. */
  add(agent: string, seq: number): void {
    let a = this.agents.get(agent);
    if (a) {
      this.agents.delete(agent); // re-insert: Map order is recency order
    } else {
      if (this.agents.size >= this.maxAgents) this.agents.delete(this.agents.keys().next().value as string);
      a = { max: -1, seen: new Set() };
    }
    this.agents.set(agent, a);
    a.seen.add(seq);
    if (seq > a.max) {
      a.max = seq;
      const floor = a.max - this.windowSize;
      if (a.seen.size > this.windowSize) for (const s of a.seen) if (s <= floor) a.seen.delete(s);
    }
  }
}
