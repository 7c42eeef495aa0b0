import type { AlertEvent, DetectionConfig } from '@tributary/firmware-schemas';
import type { LifecycleOptions, LifecycleSnapshot } from '../../alerts/lifecycle.js';
import type { DetectionSnapshot, DeviceSnapshot, SeriesSnapshot } from '../detection.js';
import type { PointColumns } from './columns.js';

/**
 * Messages between the processor and its detection workers (worker_threads). A worker hosts any
 * number of shards, each one Detection with its own alert lifecycle, named by `id` (one per
 * partition: the single processor has one, a cluster member one per partition it owns). Every
 * request carries `req`; the worker answers each in the order it came, with `{ req, ok, value }`
 * or `{ req, ok: false, error }`.
 */
export type ShardRequest =
  | { op: 'create'; id: number; detection: DetectionConfig; alerts: LifecycleOptions; maxSeries: number }
  | {
      op: 'ingest';
      id: number;
      agent: string;
      horizon: number;
      newestLengthMs: number | undefined;
      points: PointColumns;
    }
  | { op: 'snapshot-begin'; id: number }
  | { op: 'snapshot-next'; id: number; cursor: number; parts: number }
  | { op: 'snapshot-end'; id: number; cursor: number }
  | { op: 'restore-begin'; id: number; agents: DetectionSnapshot['agents']; resync: boolean }
  | { op: 'restore-parts'; id: number; parts: Array<SeriesSnapshot | DeviceSnapshot> }
  | { op: 'restore-end'; id: number; header: { v: 1; agents: DetectionSnapshot['agents']; alerts: LifecycleSnapshot } }
  | { op: 'drop'; id: number }
  /** The worker's V8 heap (v8.getHeapStatistics()): what its thread holds, for /metrics and bench:cloud. */
  | { op: 'heap' };

/** Openings dropped at the shard's alerts.maxOpen since its last answer: how many, and the first few. */
export interface Dropped {
  readonly count: number;
  readonly examples: ReadonlyArray<readonly [device: string, metric: string, detector: string]>;
}

export interface IngestAnswer {
  readonly alerts: AlertEvent[];
  /** Series the shard holds now. */
  readonly size: number;
  /** Series evicted at the shard's maxSeries by this batch. */
  readonly evicted: number;
  readonly dropped: Dropped;
  /** A device's metrics of one time beyond what its device detector judges, since the last answer: [device, count, first metric]. */
  readonly leftOut: LeftOut;
}

/** Metrics left out by device detectors: every count, the first few devices by name (the rest added to the last named). */
export type LeftOut = ReadonlyArray<readonly [device: string, count: number, first: string]>;

export interface SnapshotBegun {
  readonly header: Omit<DetectionSnapshot, 'series'>;
  readonly cursor: number;
}

export interface SnapshotSlice {
  /** Up to `parts` series or device entries as JSON lines joined by newlines ('' when none were left). */
  readonly lines: string;
  readonly done: boolean;
}

export interface RestoreEnded {
  readonly size: number;
  readonly skipped: number;
  readonly closed: number;
  readonly open: Array<{
    id: string;
    device: string;
    metric: string;
    detector: string;
    openedAt: number;
    severity: AlertEvent['severity'];
  }>;
}

export type ShardReply = { req: number; ok: true; value: unknown } | { req: number; ok: false; error: string };

/**
 * What crosses to a worker in one postMessage: every request made to it in one turn of the event
 * loop, in order (DetectionPool coalesces them: each message costs a structured clone, a wake-up
 * and a task on both sides, and the processor makes one ingest request per worker per batch).
 * The worker answers each with a message of its own, in the same order.
 */
export type ShardRequests = Array<ShardRequest & { req: number }>;
