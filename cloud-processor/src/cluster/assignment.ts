/**
 * Which partitions a member should take or give up, from what it sees in the lease bucket. Pure.
 * Every member aims at ceil(P / members): P is fixed and much larger than the member count, so a
 * membership change moves only the partitions that change owner (as Kafka partitions and Flink
 * key groups do); nothing is ever hashed "mod live members".
 */
export interface LeaseView {
  readonly partitions: number;
  readonly me: string;
  /** Members with a live heartbeat (this one is counted even before its own heartbeat shows). */
  readonly members: readonly string[];
  /** Partitions with a live lease, whoever holds it. */
  readonly leased: ReadonlySet<number>;
  /** Partitions this member holds. */
  readonly owned: ReadonlySet<number>;
}

export interface LeasePlan {
  readonly target: number;
  /** Free partitions to try, in order (another member may win some). */
  readonly acquire: readonly number[];
  /** Owned partitions to hand over gracefully. */
  readonly release: readonly number[];
}

/** Partitions each member aims at. */
export function targetShare(partitions: number, members: number): number {
  return Math.ceil(partitions / Math.max(1, members));
}

/** FNV-1a of the member name: where in the ring this member starts looking, so members rarely race for one partition. */
export function startOf(member: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) h = Math.imul(h ^ member.charCodeAt(i), 0x01000193) >>> 0;
  return h % partitions;
}

export function planLeases(v: LeaseView): LeasePlan {
  const members = new Set(v.members).add(v.me).size;
  const target = targetShare(v.partitions, members);
  const start = startOf(v.me, v.partitions);
  const ring = Array.from({ length: v.partitions }, (_, i) => (start + i) % v.partitions);
  const wanted = Math.max(0, target - v.owned.size);
  const acquire = ring.filter((n) => !v.leased.has(n) && !v.owned.has(n)).slice(0, wanted);
  // Give up the partitions furthest along this member's ring, so the ones it keeps are stable.
  const excess = Math.max(0, v.owned.size - target);
  const release = ring.filter((n) => v.owned.has(n)).slice(v.owned.size - excess);
  return { target, acquire, release };
}
