/** Per-agent dedupe state, small enough to keep for many agents and to persist. */
interface AgentState {
  epoch: number;
  /** Highest seq written; -1 before the first. */
  max: number;
  /** Bit i set: seq (max − i) was written, for i < window. */
  bits: Uint8Array;
  duplicates: number;
  /** Seqs skipped over and not (yet) received. */
  gaps: number;
}

export interface AgentDedupeStats {
  readonly agent: string;
  readonly duplicates: number;
  readonly gaps: number;
  readonly maxSeq: number;
}

/**
 * Which (agent, seq) batches were already written. Bounded: per agent the high-water mark and a
 * bitmap of the `window` seqs below it (window/8 bytes); a seq older than the window counts as
 * written (an agent sends oldest first with few batches in flight, so one that far behind was
 * written long ago). At most `maxAgents` agents; the least recently active is forgotten beyond it.
 * A batch with a newer `epoch` (the agent's state was wiped and its seqs restarted) resets the
 * agent's state. Counts duplicates and gaps per agent.
 *
 * A batch that would move the state somewhere no honest agent can be (an epoch more than
 * `maxEpochAheadMs` ahead of our clock, a seq more than `maxSeqJump` past the high-water mark) is
 * written but not tracked: tracking it would make every later batch of the real agent look old,
 * i.e. already written, and be dropped. A re-send of an untracked batch is written again, which
 * InfluxDB absorbs (same series and time).
 */
export class Dedupe {
  private readonly agents = new Map<string, AgentState>();
  private readonly bytes: number;
  private changed = false;

  constructor(
    private readonly window: number,
    private readonly maxAgents = 100_000,
    private readonly maxSeqJump = 100_000_000,
    private readonly maxEpochAheadMs = 86_400_000,
  ) {
    this.bytes = Math.ceil(window / 8);
  }

  /** True when this batch was written before; counts it as a duplicate. */
  seen(agent: string, epoch: number, seq: number): boolean {
    const a = this.agents.get(agent);
    if (!a || epoch !== a.epoch || seq > a.max) return false;
    const age = a.max - seq;
    const dup = age >= this.window || (a.bits[age >> 3]! & (1 << (age & 7))) !== 0;
    if (dup) {
      a.duplicates++;
      this.changed = true;
    }
    return dup;
  }

  /**
   * Why this batch cannot be tracked (see the class comment), or undefined when it can.
   * `now` is our clock in ms, which an epoch (the agent's clock when its spool was made) must not pass by much.
   */
  untrackable(agent: string, epoch: number, seq: number, now: number): string | undefined {
    if (epoch > now + this.maxEpochAheadMs) return `epoch ${epoch} is ahead of our clock (${now}) by more than ${this.maxEpochAheadMs} ms`;
    const a = this.agents.get(agent);
    const max = a && a.epoch === epoch ? a.max : -1;
    if (seq - max > this.maxSeqJump) return `seq ${seq} jumps more than ${this.maxSeqJump} past the highest seen (${max})`;
    return undefined;
  }

  /** Records a written batch. Call only once its points are durable, and only when it is not `untrackable`. */
  add(agent: string, epoch: number, seq: number): void {
    let a = this.agents.get(agent);
    if (a) this.agents.delete(agent); // re-insert below: Map order is recency order
    if (!a || epoch > a.epoch) {
      if (!a && this.agents.size >= this.maxAgents) this.agents.delete(this.agents.keys().next().value as string);
      a = { epoch, max: -1, bits: new Uint8Array(this.bytes), duplicates: a?.duplicates ?? 0, gaps: a?.gaps ?? 0 };
    }
    this.agents.set(agent, a);
    this.changed = true;
    if (epoch < a.epoch) return; // a straggler from before a reset: written, nothing to track
    if (seq > a.max) {
      if (a.max >= 0) a.gaps += seq - a.max - 1;
      shiftBits(a.bits, seq - a.max, this.window);
      a.max = seq;
      a.bits[0]! |= 1;
      return;
    }
    const age = a.max - seq;
    if (age < this.window && (a.bits[age >> 3]! & (1 << (age & 7))) === 0) {
      a.bits[age >> 3]! |= 1 << (age & 7);
      a.gaps = Math.max(0, a.gaps - 1); // a late batch filled a gap
    }
  }

  stats(): AgentDedupeStats[] {
    return [...this.agents].map(([agent, a]) => ({ agent, duplicates: a.duplicates, gaps: a.gaps, maxSeq: a.max }));
  }

  /** True once since the last snapshot if anything changed. */
  get dirty(): boolean {
    return this.changed;
  }

  snapshot(): Record<string, { epoch: number; max: number; bits: string; duplicates: number; gaps: number }> {
    this.changed = false;
    const out: Record<string, { epoch: number; max: number; bits: string; duplicates: number; gaps: number }> = {};
    for (const [agent, a] of this.agents) out[agent] = { epoch: a.epoch, max: a.max, bits: Buffer.from(a.bits).toString('base64'), duplicates: a.duplicates, gaps: a.gaps };
    return out;
  }

  restore(snapshot: unknown): void {
    if (typeof snapshot !== 'object' || snapshot === null) return;
    for (const [agent, v] of Object.entries(snapshot as Record<string, Record<string, unknown>>)) {
      const int = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) ? x : 0);
      const bits = new Uint8Array(this.bytes);
      if (typeof v.bits === 'string') bits.set(Buffer.from(v.bits, 'base64').subarray(0, this.bytes));
      this.agents.set(agent, { epoch: int(v.epoch), max: typeof v.max === 'number' ? int(v.max) : -1, bits, duplicates: int(v.duplicates), gaps: int(v.gaps) });
    }
  }
}

/** Shifts the bitmap so bit i becomes bit i + by (the high-water mark moved up by `by`). */
function shiftBits(bits: Uint8Array, by: number, window: number): void {
  if (by >= window) {
    bits.fill(0);
    return;
  }
  for (let i = window - 1; i >= 0; i--) {
    const from = i - by;
    const set = from >= 0 && (bits[from >> 3]! & (1 << (from & 7))) !== 0;
    if (set) bits[i >> 3]! |= 1 << (i & 7);
    else bits[i >> 3]! &= ~(1 << (i & 7));
  }
}
