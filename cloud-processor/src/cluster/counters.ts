/** The counters of a cluster member (Prometheus `tributary_cloud_cluster_*_total`), with their help text. */
export const clusterCounterHelp = {
  partitions_acquired: 'partitions this member started owning (leases acquired, record fenced, state restored)',
  partitions_taken_over:
    'of those, partitions whose previous owner had not handed them over (its lease expired: a crash or a pause)',
  partitions_released: 'partitions handed over gracefully (final snapshot, lease deleted): rebalancing or stopping',
  partitions_lost: 'partitions this member stopped owning without handing over: lease lost, or fenced by a new owner',
  acquisitions_failed:
    'leases acquired whose partition could not be started (the record moved, or NATS failed); the lease is given back',
  checkpoint_writes_refused:
    'position-record writes refused because another owner had fenced the partition (a paused or partitioned member)',
  commit_failures:
    'position-record writes that failed for another reason (NATS unreachable); retried, nothing acked meanwhile',
  lease_errors: 'lease or heartbeat operations that failed for another reason (NATS unreachable); retried',
  batches_replayed:
    'batches read again after a takeover that the previous owner had already acked (rewritten, not re-acked or re-alerted)',
  snapshots_written: 'partition snapshots written',
  snapshot_bytes: 'bytes of partition snapshots written (gzip)',
  snapshots_unreadable:
    'snapshots that could not be restored (missing or damaged): the partition went on from its position with fresh detector state',
  alerts_unpublishable:
    'alert transitions not published on NATS: the device or metric is not a valid subject token (still in InfluxDB and the other sinks)',
  http_relay_failures:
    'HTTP batch uploads that could not be stored in the stream or were not answered within the request timeout (answered 503)',
} as const;

export type ClusterCounter = keyof typeof clusterCounterHelp;
