import { SeqStream } from './seq-stream.js';

/** Streams kept per agent: its own, and a few apart (a reset, a crash's skip, or batches posted by someone else). */
export const MAX_STREAMS_PER_AGENT = 4;

/** Version of the snapshot `snapshot()` writes; `restore` also reads the unversioned format before it. */
export const DEDUPE_STATE_VERSION = 2;

interface AgentState {
  duplicates: number;
  /** Least recently used first. */
  streams: SeqStream[];
}

export interface AgentDedupeStats {
  readonly agent: string;
  readonly duplicates: number;
  /** Seqs skipped over inside the agent's streams and not (yet) received. */
  readonly gaps: number;
  /** The highest seq of the stream used last. */
  readonly maxSeq: number;
  /** Streams tracked for the agent: more than one after a jump, a new epoch, or batches posted as it by someone else. */
  readonly streams: number;
}

interface StreamSnapshot {
  epoch: number;
  max: number;
  bits: string;
  gaps: number;
}

export interface DedupeSnapshot {
  v: typeof DEDUPE_STATE_VERSION;
  agents: Array<{ agent: string; duplicates: number; streams: StreamSnapshot[] }>;
}

/**
 * Which (agent, epoch, seq) batches were already written.
 *
 * A batch is a duplicate only when its own seq was recorded: no batch, however far it jumps, can
 * make another seq look written. Each agent's seqs are tracked in streams (see SeqStream): a
 * high-water mark and a bitmap of the `window` seqs below it. A batch joins the stream of its
 * epoch whose window holds it, or whose high-water mark it passes by at most `maxSeqGap`
 * (≤ window / 2, so one batch cannot push an agent's recent history out of its window); any other
 * batch — a far jump, a new epoch — starts a stream of its own beside the agent's, which the
 * agent's next seq does not see (`add` says why, so it is counted and logged). So a forged batch
 * far ahead neither drops the real agent's later batches nor stops its re-sends from being
 * recognised. A seq no stream holds is new: written again if it was written long ago, which
 * InfluxDB absorbs (same series and time).
 *
 * Bounded: at most MAX_STREAMS_PER_AGENT streams per agent (the least recently used goes) and
 * `maxAgents` agents (the least recently active goes), each stream window/8 bytes.
 */
export class Dedupe {
  private readonly agents = new Map<string, AgentState>();
  private readonly maxSeqGap: number;
  private changed = false;

  constructor(
    private readonly window: number,
    private readonly maxAgents = 100_000,
    maxSeqGap?: number,
  ) {
    this.maxSeqGap = maxSeqGap ?? Math.floor(window / 2);
    if (this.maxSeqGap > window / 2)
      throw new RangeError(`maxSeqGap ${this.maxSeqGap} is over half the window (${window})`);
  }

  /** True when this batch was written before; counts it as a duplicate. */
  seen(agent: string, epoch: number, seq: number): boolean {
    const a = this.agents.get(agent);
    if (!a?.streams.some((s) => s.epoch === epoch && s.has(seq))) return false;
    a.duplicates++;
    this.changed = true;
    return true;
  }

  /**
   * Records a written batch; call only once its points are durable. Returns why it was tracked
   * apart from the agent's other streams (a far jump or a new epoch), or undefined.
   */
  add(agent: string, epoch: number, seq: number): string | undefined {
    let a = this.agents.get(agent);
    if (a)
      this.agents.delete(agent); // re-insert below: Map order is recency order
    else {
      if (this.agents.size >= this.maxAgents) this.agents.delete(this.agents.keys().next().value as string);
      a = { duplicates: 0, streams: [] };
    }
    this.agents.set(agent, a);
    this.changed = true;
    let nearest: SeqStream | undefined;
    let distance = Infinity;
    for (const s of a.streams) {
      const d = s.epoch === epoch ? s.distance(seq, this.maxSeqGap) : Infinity;
      if (d < distance) [nearest, distance] = [s, d];
    }
    if (nearest) {
      nearest.record(seq);
      a.streams.splice(a.streams.indexOf(nearest), 1);
      a.streams.push(nearest);
      return undefined;
    }
    const why = a.streams.length === 0 ? undefined : this.apart(a.streams, epoch, seq);
    if (a.streams.length >= MAX_STREAMS_PER_AGENT) a.streams.shift();
    a.streams.push(SeqStream.start(epoch, seq, this.window));
    return why;
  }

  /** Why `seq` of `epoch` fits none of `streams`, naming the seqs. */
  private apart(streams: readonly SeqStream[], epoch: number, seq: number): string {
    const same = streams.filter((s) => s.epoch === epoch);
    if (same.length === 0)
      return `new epoch ${epoch} (tracked: ${[...new Set(streams.map((s) => s.epoch))].join(', ')}) at seq ${seq}: its state was reset, or someone else posts as it`;
    const near = same.reduce((a, b) => (Math.abs(b.max - seq) < Math.abs(a.max - seq) ? b : a));
    const how =
      seq > near.max
        ? `${seq - near.max} past the highest seq ${near.max}`
        : `${near.max - seq} below the highest seq ${near.max}`;
    return `seq ${seq} is ${how} of its stream in epoch ${epoch} (dedupe.maxSeqGap ${this.maxSeqGap}, windowSize ${this.window}): lost batches, or someone else posts as it`;
  }

  stats(): AgentDedupeStats[] {
    return [...this.agents].map(([agent, a]) => ({
      agent,
      duplicates: a.duplicates,
      gaps: a.streams.reduce((n, s) => n + s.gaps, 0),
      maxSeq: a.streams.at(-1)?.max ?? -1,
      streams: a.streams.length,
    }));
  }

  /** True once since the last snapshot if anything changed. */
  get dirty(): boolean {
    return this.changed;
  }

  /** The state to persist: agents as an array (their ids are data, never object keys), least recently active first. */
  snapshot(): DedupeSnapshot {
    this.changed = false;
    const agents = [...this.agents].map(([agent, a]) => ({
      agent,
      duplicates: a.duplicates,
      streams: a.streams.map((s) => ({
        epoch: s.epoch,
        max: s.max,
        bits: Buffer.from(s.bits).toString('base64'),
        gaps: s.gaps,
      })),
    }));
    return { v: DEDUPE_STATE_VERSION, agents };
  }

  /**
   * Loads a snapshot: this version's, or version 1 (an object keyed by agent, one high-water mark
   * each), whose state becomes one stream per agent. Unreadable entries are skipped. Returns the
   * version read, or undefined for none (nothing, or a version this build does not know).
   */
  restore(snapshot: unknown): number | undefined {
    if (typeof snapshot !== 'object' || snapshot === null) return undefined;
    const entries: Array<{ agent: string; duplicates: unknown; streams: unknown[] }> = [];
    const { v, agents } = snapshot as { v?: unknown; agents?: unknown };
    if (typeof v === 'number') {
      if (v !== DEDUPE_STATE_VERSION || !Array.isArray(agents)) return undefined;
      for (const e of agents as Array<Record<string, unknown> | null>) {
        if (typeof e?.agent === 'string' && Array.isArray(e.streams))
          entries.push({ agent: e.agent, duplicates: e.duplicates, streams: e.streams as unknown[] });
      }
    } else {
      // Version 1: { [agent]: { epoch, max, bits, duplicates, gaps } } (an agent may be called "v").
      for (const [agent, e] of Object.entries(snapshot as Record<string, Record<string, unknown> | null>)) {
        if (typeof e === 'object' && e !== null) entries.push({ agent, duplicates: e.duplicates, streams: [e] });
      }
    }
    for (const e of entries.slice(-this.maxAgents)) {
      const streams = e.streams.slice(-MAX_STREAMS_PER_AGENT).flatMap((s) => this.stream(s));
      if (streams.length > 0) this.agents.set(e.agent, { duplicates: int(e.duplicates), streams });
    }
    return typeof v === 'number' ? v : 1;
  }

  private stream(v: unknown): SeqStream[] {
    if (typeof v !== 'object' || v === null) return [];
    const { epoch, max, bits, gaps } = v as Record<string, unknown>;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) return []; // version 1 wrote -1 before a first batch
    const s = new SeqStream(int(epoch), max, new Uint8Array(Math.ceil(this.window / 8)), int(gaps));
    if (typeof bits === 'string') s.bits.set(Buffer.from(bits, 'base64').subarray(0, s.bits.length));
    return [s];
  }
}

const int = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
