import type { ClusterConfig } from '@tributary/firmware-schemas';
import {
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type KV,
  type NatsConnection,
  type ObjectStore,
  type StreamConfig,
} from 'nats';
import { CHECKPOINTS_BUCKET, LEASES_BUCKET, PARTITION_SUBJECTS, SNAPSHOTS_BUCKET, STREAM } from './subjects.js';

/** JetStream's error code for a stream that exists with another configuration. */
const STREAM_NAME_IN_USE = 10058;

export interface ClusterStores {
  readonly js: JetStreamClient;
  readonly leases: KV;
  readonly records: KV;
  readonly snapshots: ObjectStore;
}

/**
 * Creates (or updates to this config) the batch stream, and creates or binds the lease bucket
 * (TTL = lease time), the position records (no expiry) and the snapshot object store. Every
 * member does this at start; the same config makes it a no-op.
 */
export async function ensureStores(nc: NatsConnection, c: ClusterConfig): Promise<ClusterStores> {
  const jsm = await nc.jetstreamManager();
  const stream: Partial<StreamConfig> = {
    name: STREAM,
    subjects: [PARTITION_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(c.streamMaxAgeMs),
    max_bytes: c.streamMaxBytes,
    num_replicas: c.replicas,
  };
  try {
    await jsm.streams.add(stream);
  } catch (err) {
    if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== STREAM_NAME_IN_USE) throw err;
    await jsm.streams.update(STREAM, stream);
  }
  const js = nc.jetstream();
  const leases = await js.views.kv(LEASES_BUCKET, {
    ttl: c.leaseTtlMs,
    history: 1,
    replicas: c.replicas,
    storage: StorageType.File,
  });
  const records = await js.views.kv(CHECKPOINTS_BUCKET, {
    history: 1,
    replicas: c.replicas,
    storage: StorageType.File,
  });
  const snapshots = await js.views.os(SNAPSHOTS_BUCKET, { replicas: c.replicas, storage: StorageType.File });
  return { js, leases, records, snapshots };
}
