import type { Counters, ProcessMetrics } from '@tributary/runtime';
import type { ProcessorLatency } from './processor.js';
import type { AlertsView, DetectionRunner } from './detect/detection-runner.js';
import type { Intake } from './ingest/intake.js';
import type { Dedupe } from './state/dedupe.js';

/** What the single processor's gauges read, at each scrape (the ingest and dashboard exist only once started). */
export interface CloudMetricSources {
  readonly alerts: AlertsView;
  readonly detection: DetectionRunner;
  readonly intake: Intake;
  readonly dedupe: Dedupe;
  readonly ingest: () =>
    | { readonly dropped: number; readonly shed: number; readonly ackPublishFailures: number }
    | undefined;
  readonly dashboardStreams: () => number;
}

/** The processor's gauges, then every counter and gauge on /metrics, and the per-agent dedupe families. */
export function exposeCloudMetrics(prometheus: ProcessMetrics, c: Counters, s: CloudMetricSources): void {
  c.gauge('open_alerts', () => s.alerts.openCount);
  c.gauge('mqtt_alerts_dropped', () => s.ingest()?.dropped ?? 0);
  c.gauge('batches_shed', () => s.ingest()?.shed ?? 0);
  c.gauge('ack_publish_failures', () => s.ingest()?.ackPublishFailures ?? 0);
  c.gauge('detector_series', () => s.detection.size);
  c.gauge('backlog_batches', () => s.intake.backlog);
  c.gauge('backlog_bytes', () => s.intake.backlogBytes);
  c.gauge('batches_in_flight', () => s.intake.inFlight);
  c.gauge('dashboard_streams_open', s.dashboardStreams);
  prometheus.expose(c);
  const perAgent = (read: (a: ReturnType<Dedupe['stats']>[number]) => number) => () =>
    s.dedupe.stats().map((a) => [a.agent, read(a)] as const);
  prometheus.family(
    'counter',
    'agent_duplicate_batches',
    'batches of this agent already written, acked without writing',
    'agent',
    perAgent((a) => a.duplicates),
  );
  prometheus.family(
    'gauge',
    'agent_missing_seqs',
    'seqs of this agent below its highest not received yet',
    'agent',
    perAgent((a) => a.gaps),
  );
  prometheus.family(
    'gauge',
    'agent_seq_streams',
    'dedupe streams of this agent (more than one: a seq jump or a new epoch)',
    'agent',
    perAgent((a) => a.streams),
  );
}

/** The latency histograms a processor observes (processor.ts ProcessorLatency), on its /metrics. */
export function processorLatency(prometheus: ProcessMetrics): ProcessorLatency {
  return {
    windowDurable: prometheus.latency(
      'window_end_to_durable',
      'from the end of a window (event time; first emissions) to the moment its batch is durable in InfluxDB',
    ),
    alertOpened: prometheus.latency(
      'window_end_to_alert',
      'from the end of the window that opened an alert to the alert going out (its batch durable)',
    ),
  };
}
