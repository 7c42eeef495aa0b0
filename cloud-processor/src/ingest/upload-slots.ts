/** Why an upload got no slot: 429 when its agent has its share, 503 when every slot is taken. */
export interface NoSlot {
  readonly status: 429 | 503;
  readonly reason: string;
}

/**
 * Batch bodies being read at once: at most `max` in all, and `maxPerAgent` for any one agent, so
 * one agent's slow uploads (or a stolen token's) take only its share and another agent's upload
 * still gets in. Holds an entry only per agent with an upload being read (at most `max`).
 */
export class UploadSlots {
  private total = 0;
  private readonly byAgent = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly maxPerAgent: number,
  ) {}

  /** Takes a slot for `agent` ('' when unknown); what stands in the way when it cannot. */
  take(agent: string): NoSlot | undefined {
    const mine = this.byAgent.get(agent) ?? 0;
    if (mine >= this.maxPerAgent)
      return {
        status: 429,
        reason: `${agent || 'an unnamed agent'} has ${mine} uploads being read already (http.maxUploadsPerAgent)`,
      };
    if (this.total >= this.max)
      return { status: 503, reason: `${this.max} uploads already being read (http.maxConcurrentUploads)` };
    this.total++;
    this.byAgent.set(agent, mine + 1);
    return undefined;
  }

  /** Gives back a slot `take` gave `agent`. */
  release(agent: string): void {
    const mine = this.byAgent.get(agent) ?? 0;
    if (mine <= 1) this.byAgent.delete(agent);
    else this.byAgent.set(agent, mine - 1);
    this.total--;
  }
}
