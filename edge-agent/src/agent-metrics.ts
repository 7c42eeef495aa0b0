import type { Counters, LatencyObserver, ProcessMetrics } from '@tributary/runtime';
import type { WindowEngine } from './core/window-engine.js';
import type { BatchQueue } from './spool/batch-queue.js';
import type { Delivery } from './uplink/delivery.js';
import type { WriteAheadLog } from './wal/write-ahead-log.js';

/** What the agent's gauges read, at each scrape. */
export interface AgentMetricSources {
  readonly windows: WindowEngine;
  readonly uplink: Delivery;
  readonly queue: BatchQueue;
  readonly wal: WriteAheadLog | undefined;
}

/** The agent's gauges, then every counter and gauge on /metrics (labelled with the agent id by `prometheus`). */
export function exposeAgentMetrics(prometheus: ProcessMetrics, c: Counters, s: AgentMetricSources): void {
  c.gauge('active_series', () => s.windows.activeSeries);
  c.gauge('device_clocks', () => s.windows.devices);
  c.gauge('queued_batches', () => s.uplink.queued);
  c.gauge('spool_bytes', () => s.queue.bytes);
  c.gauge('process_resident_memory_bytes', () => process.memoryUsage.rss());
  c.gauge('inflight_batches', () => s.uplink.inFlight);
  const wal = s.wal;
  if (wal !== undefined) c.gauge('wal_bytes', () => wal.bytes);
  prometheus.expose(c);
}

/** The sealed → acked latency histogram, on /metrics. */
export function ackLatency(prometheus: ProcessMetrics): LatencyObserver {
  return prometheus.latency(
    'batch_sealed_to_acked',
    "from a batch's append to the spool to the cloud's ack (ok or duplicate), batches of this run",
  );
}
