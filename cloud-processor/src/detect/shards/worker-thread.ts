/**
 * A detection worker thread (started by DetectionPool): hosts shards — each a Detection over the
 * devices the processor routes to this worker (every series of each, and its device detector),
 * with its own alert lifecycle — and answers the
 * requests of protocol.ts in the order they come, so every series sees its points in order.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { AlertEvent } from '@tributary/firmware-schemas';
import { AlertLifecycle } from '../../alerts/lifecycle.js';
import { Detection } from '../detection.js';
import { detectorPlans } from '../registry.js';
import { unpackPoints } from './columns.js';
import type {
  Dropped,
  IngestAnswer,
  LeftOut,
  RestoreEnded,
  ShardReply,
  ShardRequest,
  ShardRequests,
  SnapshotBegun,
  SnapshotSlice,
} from './protocol.js';

/** Openings dropped at maxOpen are named in the answer up to this many at a time (all are counted). */
const DROPPED_EXAMPLES = 4;

class Shard {
  readonly lifecycle: AlertLifecycle;
  readonly detection: Detection;
  evicted = 0;
  dropped: { count: number; examples: Array<[string, string, string]> } = { count: 0, examples: [] };
  leftOut: Array<[string, number, string]> = [];
  /** Snapshots being read, by cursor: the rest of their series parts. */
  readonly snapshots = new Map<number, Iterator<unknown>>();
  nextCursor = 1;

  constructor(r: Extract<ShardRequest, { op: 'create' }>) {
    this.lifecycle = new AlertLifecycle(r.alerts, (device, metric, detector) => {
      this.dropped.count++;
      if (this.dropped.examples.length < DROPPED_EXAMPLES) this.dropped.examples.push([device, metric, detector]);
    });
    this.detection = new Detection(
      detectorPlans(r.detection),
      this.lifecycle,
      r.maxSeries,
      () => this.evicted++,
      undefined,
      (device, count, first) => {
        const last = this.leftOut.at(-1);
        if (this.leftOut.length < DROPPED_EXAMPLES) this.leftOut.push([device, count, first]);
        else if (last !== undefined) last[1] += count;
      },
    );
  }

  ingest(r: Extract<ShardRequest, { op: 'ingest' }>): IngestAnswer {
    const alerts: AlertEvent[] = this.detection.ingestPart(
      r.agent,
      unpackPoints(r.points),
      r.horizon,
      r.newestLengthMs,
    );
    const answer: IngestAnswer = {
      alerts,
      size: this.detection.size,
      evicted: this.evicted,
      dropped: this.dropped as Dropped,
      leftOut: this.leftOut as LeftOut,
    };
    this.evicted = 0;
    this.leftOut = [];
    this.dropped = { count: 0, examples: [] };
    return answer;
  }

  snapshotBegin(): SnapshotBegun {
    const parts = this.detection.snapshotParts();
    const header = parts.next().value as SnapshotBegun['header'];
    const cursor = this.nextCursor++;
    this.snapshots.set(cursor, parts);
    return { header, cursor };
  }

  snapshotNext(cursor: number, count: number): SnapshotSlice {
    const parts = this.snapshots.get(cursor);
    if (parts === undefined) return { lines: '', done: true };
    const lines: string[] = [];
    for (let next = parts.next(); ; next = parts.next()) {
      if (next.done === true) {
        this.snapshots.delete(cursor);
        return { lines: lines.join('\n'), done: true };
      }
      lines.push(JSON.stringify(next.value));
      if (lines.length >= count) return { lines: lines.join('\n'), done: false };
    }
  }

  restoreEnd(r: Extract<ShardRequest, { op: 'restore-end' }>): RestoreEnded {
    this.detection.restoreAlerts(r.header);
    return {
      size: this.detection.size,
      skipped: this.detection.skippedOnRestore,
      closed: this.detection.alertsClosedOnRestore,
      open: this.lifecycle.openAlerts(),
    };
  }
}

const shards = new Map<number, Shard>();

function shardOf(id: number): Shard {
  const s = shards.get(id);
  if (s === undefined) throw new Error(`no detection shard ${id} in this worker`);
  return s;
}

function handle(r: ShardRequest): unknown {
  switch (r.op) {
    case 'create':
      shards.set(r.id, new Shard(r));
      return undefined;
    case 'ingest':
      return shardOf(r.id).ingest(r);
    case 'snapshot-begin':
      return shardOf(r.id).snapshotBegin();
    case 'snapshot-next':
      return shardOf(r.id).snapshotNext(r.cursor, r.parts);
    case 'snapshot-end':
      shards.get(r.id)?.snapshots.delete(r.cursor);
      return undefined;
    case 'restore-begin':
      shardOf(r.id).detection.restoreAgents(r.agents, r.resync);
      return undefined;
    case 'restore-parts': {
      const { detection } = shardOf(r.id);
      for (const part of r.parts) detection.restorePart(part);
      return undefined;
    }
    case 'restore-end':
      return shardOf(r.id).restoreEnd(r);
    case 'drop':
      shards.delete(r.id);
      return undefined;
    case 'heap':
      return getHeapStatistics();
  }
}

const port = parentPort;
if (port === null) throw new Error('worker-thread.js runs as a worker thread (DetectionPool starts it)');
// Each reply is posted as soon as it is made, not with the others of its message: the processor
// can write a batch's anomaly points and ack it while the worker judges the next batch.
port.on('message', (requests: ShardRequests) => {
  for (const message of requests) {
    let reply: ShardReply;
    try {
      reply = { req: message.req, ok: true, value: handle(message) };
    } catch (err) {
      reply = { req: message.req, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  }
});
