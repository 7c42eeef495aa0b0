import type { Counters, Logger } from '@tributary/runtime';
import { planLeases } from './assignment.js';
import type { ClusterCounter } from './counters.js';
import type { LeaseTable } from './leases.js';
import type { PartitionWorker } from './worker.js';

export interface NodeOptions {
  readonly partitions: number;
  readonly renewIntervalMs: number;
  readonly commitIntervalMs: number;
  readonly snapshotIntervalMs: number;
  readonly leases: LeaseTable;
  /** Starts a worker for a partition whose lease this member just acquired; `onFenced` drops it. */
  readonly startWorker: (
    partition: number,
    onFenced: () => void,
  ) => Promise<{ worker: PartitionWorker; takeover: boolean }>;
  readonly http?: string | undefined;
  readonly counters: Counters<ClusterCounter>;
  readonly log: Logger;
}

/** A partition this member holds the lease of. */
interface Held {
  revision: number;
  /** Set once it is fenced and restored (the partition is owned). */
  worker: PartitionWorker | undefined;
  /** Being handed over or dropped: no longer renewed by the balancing, not started again. */
  leaving: boolean;
}

/**
 * Membership and ownership for one member: every `renewIntervalMs` it renews its heartbeat and
 * its leases, reads the live members and leases, and takes or hands over partitions so that
 * each member owns ceil(P / members) (assignment.ts). Each owned partition's worker is committed
 * every `commitIntervalMs` and snapshotted every `snapshotIntervalMs` (staggered).
 */
export class ClusterNode {
  private readonly held = new Map<number, Held>();
  private readonly timers: NodeJS.Timeout[] = [];
  private ticking: Promise<void> | undefined;
  private ticks = 0;
  private stopping = false;
  /** Live members as last seen. */
  members: string[] = [];

  constructor(private readonly o: NodeOptions) {}

  /** Partitions owned now (fenced, restored, being read), with their workers. */
  owned(): Array<[number, PartitionWorker]> {
    return [...this.held]
      .flatMap(([n, h]) => (h.worker !== undefined && !h.leaving ? [[n, h.worker] as [number, PartitionWorker]] : []))
      .sort((a, b) => a[0] - b[0]);
  }

  start(): void {
    const { renewIntervalMs, commitIntervalMs, snapshotIntervalMs } = this.o;
    this.timers.push(setInterval(() => void this.tick(), renewIntervalMs));
    this.timers.push(setInterval(() => this.eachWorker((w) => w.commit()), commitIntervalMs));
    // Partitions' snapshots one at a time around the ring, each once per interval, so they do not bunch up.
    let next = 0;
    this.timers.push(
      setInterval(
        () => {
          const n = next++ % this.o.partitions;
          const w = this.held.get(n);
          if (w?.worker === undefined || w.leaving) return;
          void w.worker
            .snapshot()
            .catch((err: unknown) =>
              this.o.log.warn(
                { partition: n, err: (err as Error).message },
                'partition snapshot failed; retried at its next turn',
              ),
            );
        },
        Math.max(10, Math.floor(snapshotIntervalMs / this.o.partitions)),
      ),
    );
    void this.tick();
  }

  /** Hands every partition over gracefully (final snapshots, leases deleted) and leaves. */
  async stop(drainMs: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.ticking;
    const renew = setInterval(() => void this.renewAll(), this.o.renewIntervalMs); // hold the leases while handing over
    try {
      await Promise.all([...this.held.keys()].map((n) => this.handOver(n, drainMs)));
    } finally {
      clearInterval(renew);
    }
    await this.o.leases.leave().catch(() => undefined);
  }

  private tick(): Promise<void> {
    if (this.ticking !== undefined || this.stopping) return this.ticking ?? Promise.resolve();
    this.ticking = this.balance()
      .catch((err: unknown) => {
        this.o.counters.inc('lease_errors');
        this.o.log.warn({ err: (err as Error).message }, 'lease round failed; retried next round');
      })
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async balance(): Promise<void> {
    const { leases, partitions } = this.o;
    await leases.heartbeat({ owned: this.owned().map(([n]) => n), http: this.o.http });
    await this.renewAll();
    // The first round only announces this member, so members starting together see each other
    // before taking partitions (otherwise the first would take them all, then hand most over).
    if (this.ticks++ === 0) return;
    const view = await leases.view();
    this.members = view.members;
    const mine = new Set([...this.held].flatMap(([n, h]) => (h.leaving ? [] : [n])));
    const plan = planLeases({ partitions, me: leases.me, members: view.members, leased: view.leased, owned: mine });
    for (const n of plan.release) if (this.held.get(n)?.worker !== undefined) void this.handOver(n, 10_000);
    // All at once: after a takeover every round trip saved is ownership sooner.
    await Promise.all(
      plan.acquire.map(async (n) => {
        const revision = await leases.acquire(n);
        if (revision === undefined) return;
        if (this.stopping) await leases.release(n, revision);
        else this.begin(n, revision);
      }),
    );
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held].map(async ([n, h]) => {
        try {
          const r = await this.o.leases.renew(n, h.revision);
          if (r === 'lost') await this.drop(n, 'lease lost (it expired: this member was paused or cut off)');
          else h.revision = r;
        } catch (err) {
          this.o.counters.inc('lease_errors');
          this.o.log.debug({ partition: n, err: (err as Error).message }, 'lease renewal failed; retried');
        }
      }),
    );
  }

  /** Starts owning partition n: fence, restore, read (the lease is renewed meanwhile). */
  private begin(n: number, revision: number): void {
    const h: Held = { revision, worker: undefined, leaving: false };
    this.held.set(n, h);
    const t0 = Date.now();
    this.o
      .startWorker(n, () => void this.drop(n, 'fenced by a new owner'))
      .then(({ worker, takeover }) => {
        h.worker = worker;
        this.o.counters.inc('partitions_acquired');
        if (takeover) this.o.counters.inc('partitions_taken_over');
        this.o.log.info(
          { partition: n, epoch: worker.epoch, fromSeq: worker.seq + 1, takeover, ms: Date.now() - t0 },
          'partition owned',
        );
        if (this.stopping) void this.handOver(n, 10_000);
      })
      .catch(async (err: unknown) => {
        this.o.counters.inc('acquisitions_failed');
        this.o.log.warn(
          { partition: n, err: (err as Error).message },
          'could not start the partition; its lease is given back',
        );
        this.held.delete(n);
        await this.o.leases.release(n, h.revision).catch(() => undefined);
      });
  }

  /** Graceful: final snapshot (the next owner replays nothing), then the lease is deleted. */
  private async handOver(n: number, drainMs: number): Promise<void> {
    const h = this.held.get(n);
    if (h === undefined || h.leaving || h.worker === undefined) return;
    h.leaving = true;
    try {
      await h.worker.finish(true, drainMs);
      this.o.counters.inc('partitions_released');
      this.o.log.info({ partition: n, seq: h.worker.seq }, 'partition handed over');
    } catch (err) {
      this.o.log.warn(
        { partition: n, err: (err as Error).message },
        'final snapshot failed: the next owner replays from the last one',
      );
    }
    this.held.delete(n);
    await this.o.leases.release(n, h.revision).catch(() => undefined);
  }

  /** Not graceful: the lease is gone or the record was fenced. A last write is tried (refused if fenced). */
  private async drop(n: number, why: string): Promise<void> {
    const h = this.held.get(n);
    if (h === undefined || h.leaving) return;
    h.leaving = true;
    this.held.delete(n);
    this.o.counters.inc('partitions_lost');
    this.o.log.warn({ partition: n }, `partition no longer owned: ${why}`);
    await h.worker?.finish(false, 2_000).catch(() => undefined);
  }

  private eachWorker(fn: (w: PartitionWorker) => Promise<void>): void {
    for (const [n, w] of this.owned()) {
      fn(w).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'fenced') return; // counted and handled by the worker
        this.o.counters.inc('commit_failures');
        this.o.log.debug({ partition: n, err: (err as Error).message }, 'commit failed; retried');
      });
    }
  }
}
