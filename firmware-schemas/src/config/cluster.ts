import { z } from 'zod';
import { PositiveMs } from './common.js';

/**
 * A name that is one NATS subject token: letters, digits, `_` and `-` (no `.`, `*`, `>` or
 * whitespace, which NATS reads as separators and wildcards).
 */
export const NATS_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Scale-out on NATS JetStream (docs/scale-out.md). Several processors share the fleet: agents'
 * batches land in one stream partitioned by agent by the server's own subject mapping (which must
 * use the same `partitions`), each partition is owned by one processor through a lease, and its
 * state is checkpointed with the stream position it reflects.
 */
export const ClusterConfig = z
  .object({
    /** NATS URLs of the server (or of several members of a NATS cluster). */
    servers: z
      .array(z.string().regex(/^(nats|tls):\/\/[^\s]+$/, 'must be a NATS URL such as nats://127.0.0.1:4222'))
      .min(1)
      .default(['nats://127.0.0.1:4222']),
    user: z.string().min(1).optional(),
    pass: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    /** This processor's name among the members; unique. Default: host name and process id. */
    member: z.string().regex(NATS_TOKEN_PATTERN, 'member must be 1-64 letters, digits, "_" or "-"').optional(),
    /**
     * Partitions of the stream, fixed per deployment: the server's mapping
     * `tributary.v1.agents.*.batches → tp.{{partition(N,1)}}.{{wildcard(1)}}` must use this N.
     */
    partitions: z.number().int().min(1).max(1024).default(64),
    /** Copies of the stream, the buckets and the snapshots (3 on a 3-node NATS cluster). */
    replicas: z.number().int().min(1).max(5).default(1),
    /** A lease not renewed for this long expires, and another processor takes the partition over. */
    leaseTtlMs: PositiveMs.default(3_000),
    /** How often leases and the heartbeat are renewed and ownership is balanced. */
    renewIntervalMs: PositiveMs.default(1_000),
    /** How often each partition's position record is advanced; acks and alerts go out after it. */
    commitIntervalMs: PositiveMs.default(200),
    /** How often each partition's state is snapshotted; a takeover replays at most this much of the stream. */
    snapshotIntervalMs: PositiveMs.default(60_000),
    /** Snapshots up to this size (gzip) live in the position record itself, rewritten at every commit; larger ones go to the object store. */
    inlineSnapshotMaxBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024)
      .default(8 * 1024),
    /** The stream keeps batches this long (limits retention): longer than the longest processor outage. */
    streamMaxAgeMs: PositiveMs.default(7 * 86_400_000),
    /** And at most this many bytes (the oldest go first). */
    streamMaxBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(10 * 1024 * 1024 * 1024),
    /** Series with detector state per partition (detection.maxSeries does not apply in cluster mode). */
    maxSeriesPerPartition: z.number().int().min(1).default(1_000),
    /** Batches of one partition read and not yet acked; reading pauses at the bound. */
    maxUncommittedBatches: z.number().int().min(1).default(256),
  })
  .superRefine((c, ctx) => {
    if (c.renewIntervalMs * 2 > c.leaseTtlMs)
      ctx.addIssue({
        code: 'custom',
        path: ['renewIntervalMs'],
        message: `must be at most half of leaseTtlMs (${c.leaseTtlMs}), so one late renewal does not lose a lease`,
      });
  });
export type ClusterConfig = z.output<typeof ClusterConfig>;
