import { join } from 'node:path';
import type { AlertEvent, ProcessorConfig } from '@tributary/firmware-schemas';
import { Counters, ProblemReport, type Logger } from '@tributary/runtime';
import { configuredAlertSinks, createAlertSink } from './alerts/sinks/registry.js';
import type { AlertSink } from './alerts/sinks/sink.js';
import type { BrokerRefusal } from './broker/embedded.js';
import { brokerRefusalCounter, cloudCounterHelp, type CloudCounter } from './counters.js';
import { DeadLetterFile } from './influx/dead-letter.js';
import { createTarget } from './influx/targets.js';
import { InfluxWriter } from './influx/writer.js';

/** Drops counted outside the sinks here (by the transport's own alert publisher, and batches shed), for the report. */
export interface TransportDrops {
  readonly alerts: number;
  readonly shed: number;
}

/**
 * What every processor writes to, whatever feeds it (one local partition or a cluster's
 * partitions): the counters and problem report, the InfluxDB writer with its dead-letter file,
 * and the alert sinks and listeners, and the report of what was skipped or dropped, logged once
 * per reportIntervalMs. Lifecycle: construct → (add sinks) → startReports → stopReports → stop.
 */
export class Outputs {
  readonly counters = new Counters<CloudCounter>(cloudCounterHelp);
  readonly problems = new ProblemReport();
  /** Like `problems`, logged as errors: they may mean lost batches or someone posting as an agent. */
  readonly alarms = new ProblemReport();
  readonly deadLetter: DeadLetterFile;
  readonly writer: InfluxWriter;
  private readonly listeners = new Set<(alert: AlertEvent) => void>();
  private readonly sinks: AlertSink[];
  private reported = { webhook: 0, alerts: 0, shed: 0 };
  private reportTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ProcessorConfig,
    private readonly log: Logger,
    /** What the transport dropped itself, read at each report. */
    private readonly drops: () => TransportDrops = () => ({ alerts: 0, shed: 0 }),
  ) {
    this.deadLetter = new DeadLetterFile(
      config.influx.deadLetter.path ?? join(config.stateDir, 'influx-dead-letter.jsonl'),
      config.influx.deadLetter.maxBytes,
    );
    this.writer = new InfluxWriter({
      target: createTarget(config.influx),
      config: config.influx,
      deadLetter: this.deadLetter,
      log: log.child({ unit: 'influx' }),
      count: (name, by) => this.counters.inc(name, by),
      onRefused: (example) => this.problems.note('influx_refused', example),
    });
    this.sinks = configuredAlertSinks(config.alerts).map((sink) => createAlertSink(sink, log));
    const c = this.counters;
    c.gauge('webhook_alerts_sent', () => this.webhookTotal('sent'));
    c.gauge('webhook_alerts_failed', () => this.webhookTotal('failed'));
    c.gauge('webhook_alerts_dropped', () => this.webhookTotal('dropped'));
    c.gauge('write_buffered_lines', () => this.writer.bufferedLines);
    c.gauge('write_buffered_bytes', () => this.writer.bufferedBytes);
    c.gauge('write_requests_in_flight', () => this.writer.inFlightRequests);
    c.gauge('influx_blocked', () => (this.writer.status().state === 'blocked' ? 1 : 0));
    c.gauge('process_cpu_seconds', () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    });
    c.gauge('process_resident_memory_bytes', () => process.memoryUsage.rss());
  }

  /** Adds a sink (the transport's: MQTT or NATS); it gets every transition from now on. */
  addSink(sink: AlertSink): void {
    this.sinks.push(sink);
  }

  /** Calls `listener` for every alert transition, after its batch is durable. */
  onAlert(listener: (alert: AlertEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends a transition to every sink and listener. */
  publish(alert: AlertEvent): void {
    for (const sink of this.sinks) sink.send(alert);
    for (const listener of this.listeners) listener(alert);
  }

  /** An alert opening dropped at alerts.maxOpen: counted and reported. */
  alertDropped(device: string, metric: string, detector: string): void {
    this.counters.inc('alerts_dropped');
    this.problems.note(
      'alerts_dropped',
      `${this.config.alerts.maxOpen} alerts open: opening for ${device} ${metric} (${detector}) dropped`,
    );
  }

  /** A series' detector state evicted at `maxSeries`: counted and reported. */
  seriesEvicted(maxSeries: number, key: string): void {
    this.counters.inc('series_evicted');
    this.problems.note(
      'series_evicted',
      `${key} ${maxSeries} reached: the least recently seen series' baseline was dropped`,
    );
  }

  /** A device's metrics beyond what its machine detector judges together: counted and reported, naming the device. */
  machineMetricsLeftOut(device: string, count: number, first: string): void {
    this.counters.inc('machine_metrics_left_out', count);
    this.problems.note(
      'machine_metrics_left_out',
      `device ${JSON.stringify(device)} reports more metrics at once than detection.devices.settings.maxMetrics: ${count} (${JSON.stringify(first)}${count > 1 ? ', …' : ''}) not judged together with the others (each is still judged on its own)`,
    );
  }

  /** A batch upload answered 413, 429 (its agent's slots are taken) or 503 before it reached the intake: counted and reported. */
  uploadRefused(status: 413 | 429 | 503, reason: string): void {
    this.counters.inc('http_uploads_refused');
    this.problems.note(
      status === 413 ? 'http_upload_too_large' : status === 429 ? 'http_upload_agent_busy' : 'http_upload_busy',
      reason,
    );
  }

  /** The embedded broker refused a connection, a login, a publish, …: counted by kind. */
  brokerRefused(kind: BrokerRefusal): void {
    this.counters.inc(brokerRefusalCounter[kind]);
  }

  /** A batch upload refused for its credentials (401) or for posting as another agent (403): counted and reported. */
  uploadForbidden(reason: string): void {
    this.counters.inc('http_uploads_forbidden');
    this.problems.note('http_upload_forbidden', reason);
  }

  /** An HTTPS connection refused for its TLS handshake or client certificate: counted and reported with its peer. */
  httpTlsRefused(peer: string, reason: string): void {
    this.counters.inc('http_tls_refused');
    this.problems.note('http_tls_refused', `${peer}: ${reason}`);
  }

  /** A read (/metrics, /api/…) without the read token: counted and reported. */
  readRefused(path: string): void {
    this.counters.inc('http_reads_refused');
    this.problems.note('http_read_refused', `GET ${path} without the read token`);
  }

  /** The dashboard's fleet view forgot an agent at dedupe.maxAgents: counted and reported. */
  dashboardForgot(agent: string): void {
    this.counters.inc('dashboard_agents_evicted');
    this.problems.note(
      'dashboard_agents_evicted',
      `dedupe.maxAgents ${this.config.dedupe.maxAgents} agents known: the dashboard forgot ${agent}, heard from least recently`,
    );
  }

  /** A dashboard's event stream refused (http.maxEventStreams open) or cut off (too slow a reader): counted and reported. */
  dashboardStreamLost(why: 'full' | 'slow'): void {
    this.counters.inc(why === 'full' ? 'dashboard_streams_refused' : 'dashboard_streams_dropped');
    this.problems.note(
      `dashboard_stream_${why}`,
      why === 'full'
        ? `http.maxEventStreams ${this.config.http?.maxEventStreams} dashboards open: another was refused`
        : 'a dashboard read its events too slowly and was cut off',
    );
  }

  /** An ack sent to an agent (over MQTT or in an HTTP answer). */
  readonly ackSent = (): void => this.counters.inc('acks_sent');

  /** What the HTTP server reports refusals to (uploads refused or forbidden, reads without the token). */
  readonly httpRefusals = {
    onRefused: (status: 413 | 429 | 503, reason: string): void => this.uploadRefused(status, reason),
    onForbidden: (_status: 401 | 403, reason: string): void => this.uploadForbidden(reason),
    onReadRefused: (path: string): void => this.readRefused(path),
    onTlsRefused: (peer: string, reason: string): void => this.httpTlsRefused(peer, reason),
  };

  /** A written batch tracked apart from its agent's other seqs (see Dedupe): logged as an error. */
  trackedApart(what: string): void {
    this.alarms.note('batch_tracked_apart', what);
  }

  /** Reports every reportIntervalMs until `stopReports`. */
  startReports(): void {
    this.reportTimer = setInterval(() => this.report(), this.config.reportIntervalMs);
  }

  stopReports(): void {
    clearInterval(this.reportTimer);
  }

  /** Logs what was skipped or dropped since the last report (once per reportIntervalMs, and at the end of a stop). */
  report(): void {
    const drops = this.drops();
    for (const p of this.problems.drain())
      this.log.warn({ reason: p.reason, count: p.count, example: p.example }, 'skipped input');
    for (const p of this.alarms.drain())
      this.log.error(
        { reason: p.reason, count: p.count, example: p.example },
        'batches tracked apart from their agent’s seqs',
      );
    // Alert transitions the sinks dropped at their bounds since the last report (the totals are in /metrics).
    const webhook = this.webhookTotal('dropped');
    const last = this.reported;
    if (webhook > last.webhook || drops.alerts > last.alerts) {
      this.log.warn(
        { webhook: webhook - last.webhook, mqtt: drops.alerts - last.alerts },
        'alert transitions dropped by their sinks (queue full or receiver down)',
      );
    }
    if (drops.shed > last.shed) {
      this.log.warn(
        { batches: drops.shed - last.shed, maxStallMs: this.config.ingest.maxStallMs },
        'backlog full for longer than ingest.maxStallMs: batches left unacked, the agents send them again',
      );
    }
    this.reported = { webhook, alerts: drops.alerts, shed: drops.shed };
  }

  /** Stops the sinks (each gets up to 2 s to deliver) and closes the dead-letter file. */
  async stop(): Promise<void> {
    for (const sink of this.sinks) await sink.stop(2_000);
    await this.deadLetter.close();
  }

  /** A count summed over every sink that delivers over a network (the webhooks). */
  private webhookTotal(count: 'sent' | 'failed' | 'dropped'): number {
    return this.sinks.reduce((n, s) => n + (s.counts?.[count] ?? 0), 0);
  }
}
