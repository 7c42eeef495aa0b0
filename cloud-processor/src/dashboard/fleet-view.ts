import type { BatchEnvelope } from '@tributary/firmware-schemas';

/**
 * The agent counters (carried in every batch) that count readings an agent lost, by reason: the
 * dashboard's "dropped" is their sum. Readings its pre-filters removed on purpose are `filtered`,
 * and messages it could not decode `invalid`, apart.
 */
export const READINGS_DROPPED_COUNTERS = [
  'readings_future',
  'readings_late',
  'readings_too_late',
  'readings_series_limit',
  'readings_pane_limit',
  'readings_evicted_window',
  'readings_dropped_unsent',
  'readings_abandoned',
] as const;

/** One agent as the dashboard shows it. */
export interface AgentView {
  readonly agent: string;
  readonly site: string | undefined;
  /** From its presence message (MQTT status with last will); undefined when it sends none (HTTP uplink). */
  readonly online: boolean | undefined;
  /** When its last batch was durable here (ms since the epoch), its seq and its own clock then. */
  readonly lastBatchAt: number | undefined;
  readonly lastSeq: number | undefined;
  readonly lastSentAt: number | undefined;
  readonly batches: number;
  /** The agent's own counters as of its last batch (totals since the agent started). */
  readonly readingsAccepted: number;
  readonly readingsFiltered: number;
  readonly readingsDropped: number;
  readonly messagesInvalid: number;
  /** The dropped readings by counter, only those above 0. */
  readonly droppedBy: Readonly<Record<string, number>>;
}

/** What the fleet view takes of a batch written (the processor keeps no more of it once its points are encoded). */
export type WrittenBatch = Pick<BatchEnvelope, 'agent' | 'site' | 'seq' | 'sentAt' | 'counters'>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A counter of an agent's batch by name: its own property, a number (the batch's keys are the agent's). */
function counter(counters: Readonly<Record<string, number>>, name: string): number {
  return Object.hasOwn(counters, name) && typeof counters[name] === 'number' ? counters[name] : 0;
}

/**
 * The fleet at a glance: each agent's presence, last batch and counters. Bounded: at `maxAgents`
 * the agent heard from least recently is forgotten (`onEvicted`), as dedupe bounds its agents.
 */
export class FleetView {
  /** Agent → view, least recently heard from first (a Map keeps insertion order; an update re-inserts). */
  private readonly agents = new Map<string, Mutable<AgentView>>();

  /** `onChanged` hears of every change (the dashboard pushes the fleet to its pages). */
  constructor(
    private readonly maxAgents: number,
    private readonly onEvicted: (agent: string) => void,
    private readonly onChanged: () => void = () => undefined,
  ) {}

  /** A batch of `batch.agent` is durable, at `now`. */
  written(batch: WrittenBatch, now: number): void {
    const a = this.touch(batch.agent);
    const c = batch.counters;
    const droppedBy: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const name of READINGS_DROPPED_COUNTERS) if (counter(c, name) > 0) droppedBy[name] = counter(c, name);
    Object.assign(a, {
      site: batch.site,
      lastBatchAt: now,
      lastSeq: batch.seq,
      lastSentAt: batch.sentAt,
      batches: a.batches + 1,
      readingsAccepted: counter(c, 'readings_accepted'),
      readingsFiltered: counter(c, 'readings_filtered'),
      readingsDropped: Object.values(droppedBy).reduce((n, v) => n + v, 0),
      messagesInvalid: counter(c, 'messages_invalid') + counter(c, 'messages_shed'),
      droppedBy,
    });
    this.onChanged();
  }

  /** An agent's presence message: online, or offline (said on a clean stop, or its last will). */
  presence(agent: string, online: boolean): void {
    this.touch(agent).online = online;
    this.onChanged();
  }

  /** The first `limit` agents by name, and how many there are. */
  list(limit: number): { agents: AgentView[]; agentsTotal: number } {
    const names = [...this.agents.keys()].sort().slice(0, limit);
    return {
      agents: names.map((n) => ({ ...this.agents.get(n)!, droppedBy: { ...this.agents.get(n)!.droppedBy } })),
      agentsTotal: this.agents.size,
    };
  }

  get size(): number {
    return this.agents.size;
  }

  private touch(agent: string): Mutable<AgentView> {
    let a = this.agents.get(agent);
    if (a) this.agents.delete(agent);
    else {
      a = {
        agent,
        site: undefined,
        online: undefined,
        lastBatchAt: undefined,
        lastSeq: undefined,
        lastSentAt: undefined,
        batches: 0,
        readingsAccepted: 0,
        readingsFiltered: 0,
        readingsDropped: 0,
        messagesInvalid: 0,
        droppedBy: {},
      };
      if (this.agents.size >= this.maxAgents) {
        const oldest = this.agents.keys().next().value as string;
        this.agents.delete(oldest);
        this.onEvicted(oldest);
      }
    }
    this.agents.set(agent, a);
    return a;
  }
}
