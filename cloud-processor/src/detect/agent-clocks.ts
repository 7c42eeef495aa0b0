import type { Series } from './series-table.js';

/** One agent's event-time clock, as Detection judges its series' silence by it. */
export interface AgentClock {
  /** The last window boundary at which this agent's series were asked about silence. */
  swept: number;
  /**
   * After a restore from a checkpoint, the points between it and the crash will not come again
   * (their batches were acked): the first batch resets the clock instead of judging that gap.
   */
  resync: boolean;
  readonly series: Set<Series>;
  /** The shortest window of its series (the sweep's step); undefined when it must be found again. */
  step: number | undefined;
}

/**
 * Every agent's clock and the series on it. An agent's clock goes with its last series, so
 * batches from ever new agent ids cannot grow the table beyond the series it holds.
 */
export class AgentClocks {
  private readonly clocks = new Map<string, AgentClock>();

  has(agent: string): boolean {
    return this.clocks.has(agent);
  }

  /** The agent's clock, made when it has none. */
  of(agent: string): AgentClock {
    let c = this.clocks.get(agent);
    if (!c) {
      c = { swept: -Infinity, resync: false, series: new Set(), step: undefined };
      this.clocks.set(agent, c);
    }
    return c;
  }

  /** Puts a series on a clock. */
  join(clock: AgentClock, s: Series): void {
    clock.series.add(s);
    clock.step = undefined;
  }

  /** Takes a series off its agent's clock; an agent with no series left is forgotten. */
  leave(s: Series): void {
    const clock = this.clocks.get(s.agent);
    if (!clock) return;
    clock.series.delete(s);
    clock.step = undefined;
    if (clock.series.size === 0) this.clocks.delete(s.agent);
  }

  /** The sweep's step: the shortest window among the clock's series (Infinity when none has one). */
  step(clock: AgentClock): number {
    if (clock.step === undefined) {
      let step = Infinity;
      for (const s of clock.series) if (s.lengthMs > 0 && s.lengthMs < step) step = s.lengthMs;
      clock.step = step;
    }
    return clock.step;
  }

  /** Each agent with the boundary it was swept to, for a snapshot. */
  swept(): Array<[string, number]> {
    return [...this.clocks].map(([agent, c]) => [agent, c.swept]);
  }

  /** Sets the agents' clocks from a snapshot; `resync` unless every batch after it comes again. */
  restore(agents: ReadonlyArray<readonly [string, number]>, resync: boolean): void {
    for (const [agent, swept] of agents) {
      const clock = this.of(agent);
      clock.swept = swept;
      clock.resync = resync;
    }
  }
}
