import type { KV } from 'nats';
import { leaseKey, memberKey } from './subjects.js';

/** JetStream's error code for a compare-and-set that found another revision (JSStreamWrongLastSequenceErr). */
const WRONG_LAST_SEQUENCE = 10071;

/** What a member says about itself in its heartbeat (shown by /api/cluster). */
export interface MemberInfo {
  readonly member: string;
  readonly owned: readonly number[];
  readonly http?: string | undefined;
  readonly at: number;
}

/**
 * Leases and heartbeats in a KV bucket whose TTL is the lease time: creating `p.{n}` acquires
 * partition n, updating it on its revision renews it, and a lease not renewed within the TTL is
 * removed by the server (no delete marker), after which any member can create it again.
 * Heartbeats `m.{member}` expire the same way; the live ones are the members.
 */
export class LeaseTable {
  constructor(
    private readonly kv: KV,
    readonly me: string,
  ) {}

  async heartbeat(info: Omit<MemberInfo, 'member' | 'at'>): Promise<void> {
    const value: MemberInfo = { member: this.me, ...info, at: Date.now() };
    await this.kv.put(memberKey(this.me), JSON.stringify(value));
  }

  /** Members with a live heartbeat, and partitions with a live lease. */
  async view(): Promise<{ members: string[]; leased: Set<number> }> {
    const members: string[] = [];
    const leased = new Set<number>();
    for await (const key of await this.kv.keys()) {
      if (key.startsWith('m.')) members.push(key.slice(2));
      else if (key.startsWith('p.')) leased.add(Number(key.slice(2)));
    }
    return { members, leased };
  }

  /** The heartbeats of every live member (for /api/cluster). */
  async members(): Promise<MemberInfo[]> {
    const out: MemberInfo[] = [];
    for await (const key of await this.kv.keys('m.*')) {
      const entry = await this.kv.get(key);
      if (entry?.operation === 'PUT') out.push(entry.json<MemberInfo>());
    }
    return out;
  }

  /** The lease's revision, or undefined when another member holds it. */
  async acquire(partition: number): Promise<number | undefined> {
    try {
      return await this.kv.create(leaseKey(partition), JSON.stringify({ member: this.me }));
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      throw err;
    }
  }

  /** The renewed lease's revision, or 'lost' when it expired and was taken (or removed) meanwhile. */
  async renew(partition: number, revision: number): Promise<number | 'lost'> {
    try {
      return await this.kv.update(leaseKey(partition), JSON.stringify({ member: this.me }), revision);
    } catch (err) {
      if (isWrongLastSequence(err)) return 'lost';
      throw err;
    }
  }

  /** Gives the lease up at once (a delete marker), if it is still ours. */
  async release(partition: number, revision: number): Promise<void> {
    await this.kv.delete(leaseKey(partition), { previousSeq: revision }).catch((err: unknown) => {
      if (!isWrongLastSequence(err)) throw err;
    });
  }

  /** Takes this member's heartbeat away, so the others count one member less at once. */
  async leave(): Promise<void> {
    await this.kv.delete(memberKey(this.me));
  }
}

export function isWrongLastSequence(err: unknown): boolean {
  return (err as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code === WRONG_LAST_SEQUENCE;
}
