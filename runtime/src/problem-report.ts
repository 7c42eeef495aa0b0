/**
 * Collects skipped input by reason so it can be logged once per interval instead of once per bad
 * message: a flood of bad payloads must not become a flood of log lines. Keeps one example per
 * reason. Bounded by the number of distinct reason codes, which callers keep to a fixed set.
 */
export interface ProblemSummary {
  readonly reason: string;
  readonly count: number;
  readonly example: string;
}

export class ProblemReport {
  private readonly byReason = new Map<string, { count: number; example: string }>();

  constructor(private readonly maxReasons = 64) {}

  note(reason: string, example: string): void {
    const entry = this.byReason.get(reason);
    if (entry) entry.count++;
    else if (this.byReason.size < this.maxReasons) this.byReason.set(reason, { count: 1, example });
  }

  /** What was noted since the last call; resets the report. */
  drain(): ProblemSummary[] {
    const out = [...this.byReason].map(([reason, e]) => ({ reason, count: e.count, example: e.example }));
    this.byReason.clear();
    return out;
  }
}
