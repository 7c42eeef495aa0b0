import type { Server } from 'node:http';
import { join } from 'node:path';
import { Counters, MQTT_PACKET_OVERHEAD_BYTES, ProblemReport, ProcessMetrics, redactUrl, type AlertEvent, type Logger, type ProcessorConfig } from '@tributary/firmware-schemas';
import { AlertLifecycle } from './alerts/lifecycle.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { brokerRefusalCounter, cloudCounterHelp, type CloudCounter } from './counters.js';
import { Dashboard } from './dashboard/dashboard.js';
import { FleetView } from './dashboard/fleet-view.js';
import { dashboardServed } from './dashboard/session.js';
import { Dedupe } from './dedupe.js';
import { cloudHealthReasons } from './health.js';
import { detectorPlans } from './detect/registry.js';
import { startCloudHttp } from './http.js';
import { Intake } from './ingest/intake.js';
import { MqttIngest } from './ingest/mqtt.js';
import { DeadLetterFile } from './influx/dead-letter.js';
import { influxAuthHeaders } from './influx/target.js';
import { createTarget } from './influx/targets.js';
import { InfluxWriter, WriteAbortedError } from './influx/writer.js';
import { BatchProcessor } from './processor.js';
import { LogSink } from './alerts/sinks/log.js';
import { MqttAlertSink } from './alerts/sinks/mqtt.js';
import type { AlertSink } from './alerts/sinks/sink.js';
import { WebhookSink, type WebhookCounts } from './alerts/sinks/webhook.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { Detection } from './detection.js';
import { readState, writeState } from './state-file.js';

export interface CloudOptions {
  readonly config: ProcessorConfig;
  readonly log: Logger;
}

/**
 * The cloud processor: broker (embedded aedes by default) and HTTP → bounded intake →
 * BatchProcessor → InfluxDB; alerts to MQTT, the log and listeners. Lifecycle: construct → start → stop.
 */
export class CloudProcessor {
  readonly counters = new Counters<CloudCounter>(cloudCounterHelp);
  readonly alerts: AlertLifecycle;
  readonly writer: InfluxWriter;
  readonly deadLetter: DeadLetterFile;
  readonly dedupe: Dedupe;
  readonly intake: Intake;
  readonly detection: Detection;
  /** /metrics: the counters and gauges, per-agent dedupe figures and the latency histograms. */
  readonly prometheus = new ProcessMetrics('tributary_cloud');
  /** Every agent's presence, last batch and counters, for the dashboard. */
  readonly fleet: FleetView;
  private dashboard: Dashboard | undefined;
  private readonly problems = new ProblemReport();
  /** Like `problems`, logged as errors: they may mean lost batches or someone posting as an agent. */
  private readonly alarms = new ProblemReport();
  private readonly listeners = new Set<(alert: AlertEvent) => void>();
  private readonly sinks: AlertSink[] = [];
  private readonly webhooks: WebhookSink[];
  private readonly dedupeFile: string;
  private readonly checkpointFile: string;
  private broker: EmbeddedBroker | undefined;
  private ingest: MqttIngest | undefined;
  private http: { server: Server; port: number } | undefined;
  private timers: NodeJS.Timeout[] = [];
  private url: string | undefined;

  constructor(private readonly options: CloudOptions) {
    const { config, log } = options;
    this.alerts = new AlertLifecycle(config.alerts, (device, metric, detector) => {
      this.counters.inc('alerts_dropped');
      this.problems.note('alerts_dropped', `${config.alerts.maxOpen} alerts open: opening for ${device} ${metric} (${detector}) dropped`);
    });
    this.deadLetter = new DeadLetterFile(config.influx.deadLetter.path ?? join(config.stateDir, 'influx-dead-letter.jsonl'), config.influx.deadLetter.maxBytes);
    this.writer = new InfluxWriter({
      target: createTarget(config.influx),
      config: config.influx,
      deadLetter: this.deadLetter,
      log: log.child({ unit: 'influx' }),
      count: (name, by) => this.counters.inc(name, by),
      onRefused: (example) => this.problems.note('influx_refused', example),
    });
    this.dedupe = new Dedupe(config.dedupe.windowSize, config.dedupe.maxAgents, config.dedupe.maxSeqGap);
    this.dedupeFile = join(config.stateDir, 'dedupe.json');
    const dedupeState = readState(this.dedupeFile);
    const version = this.dedupe.restore(dedupeState);
    if (dedupeState !== undefined && version === undefined) log.error({ file: this.dedupeFile }, 'dedupe state of an unknown format: duplicates start afresh');
    else if (version !== undefined) log.info({ file: this.dedupeFile, agents: this.dedupe.stats().length, version }, 'dedupe state restored');
    this.detection = new Detection(detectorPlans(config.detection), this.alerts, config.detection.maxSeries, () => {
      this.counters.inc('series_evicted');
      this.problems.note('series_evicted', `detection.maxSeries ${config.detection.maxSeries} reached: the least recently seen series' baseline was dropped`);
    });
    this.checkpointFile = join(config.stateDir, 'detection.json.gz');
    this.fleet = new FleetView(config.dedupe.maxAgents, (agent) => {
      this.counters.inc('dashboard_agents_evicted');
      this.problems.note('dashboard_agents_evicted', `dedupe.maxAgents ${config.dedupe.maxAgents} agents known: the dashboard forgot ${agent}, heard from least recently`);
    });
    const saved = readCheckpoint(this.checkpointFile);
    if (saved?.ok === false) {
      log.error({ file: this.checkpointFile, reason: saved.reason }, 'detector checkpoint unreadable: baselines and open alerts start afresh');
    } else if (saved !== undefined && !this.detection.restoreParts(saved.parts)) {
      log.error({ file: this.checkpointFile, damagedLines: saved.badLines() }, 'detector checkpoint has no readable header: baselines and open alerts start afresh');
    } else if (saved !== undefined) {
      const damaged = saved.badLines();
      (damaged > 0 ? log.warn.bind(log) : log.info.bind(log))(
        { series: this.detection.size, openAlerts: this.alerts.openCount, skipped: this.detection.skippedOnRestore, alertsClosed: this.detection.alertsClosedOnRestore, damagedLines: damaged },
        'detector state restored from checkpoint',
      );
    }
    const processor = new BatchProcessor({
      maxBatchBytes: config.maxBatchBytes,
      dedupe: this.dedupe,
      detection: this.detection,
      writer: this.writer,
      units: config.influx.units,
      counters: this.counters,
      problems: this.problems,
      onAlert: (alert) => this.publish(alert),
      onTrackedApart: (what) => this.alarms.note('batch_tracked_apart', what),
      onWritten: (batch) => {
        this.fleet.written(batch, Date.now());
        this.dashboard?.fleetChanged();
      },
      latency: {
        windowDurable: this.prometheus.latency('window_end_to_durable', 'from the end of a window (event time; first emissions) to the moment its batch is durable in InfluxDB'),
        alertOpened: this.prometheus.latency('window_end_to_alert', 'from the end of the window that opened an alert to the alert going out (its batch durable)'),
      },
    });
    this.intake = new Intake(config.ingest.maxBacklogBatches, config.ingest.maxBacklogBytes, (payload, agent) => processor.process(payload, agent));
    this.webhooks = config.alerts.webhooks.map((w) => new WebhookSink(w, log.child({ unit: 'webhook' })));
    this.sinks.push(new LogSink(log.child({ unit: 'alerts' })), ...this.webhooks);
    this.counters.gauge('open_alerts', () => this.alerts.openCount);
    this.counters.gauge('webhook_alerts_sent', () => this.webhookTotal('sent'));
    this.counters.gauge('webhook_alerts_failed', () => this.webhookTotal('failed'));
    this.counters.gauge('webhook_alerts_dropped', () => this.webhookTotal('dropped'));
    this.counters.gauge('mqtt_alerts_dropped', () => this.ingest?.dropped ?? 0);
    this.counters.gauge('batches_shed', () => this.ingest?.shed ?? 0);
    this.counters.gauge('ack_publish_failures', () => this.ingest?.ackPublishFailures ?? 0);
    this.counters.gauge('detector_series', () => this.detection.size);
    this.counters.gauge('backlog_batches', () => this.intake.backlog);
    this.counters.gauge('backlog_bytes', () => this.intake.backlogBytes);
    this.counters.gauge('batches_in_flight', () => this.intake.inFlight);
    this.counters.gauge('write_buffered_lines', () => this.writer.bufferedLines);
    this.counters.gauge('write_requests_in_flight', () => this.writer.inFlightRequests);
    this.counters.gauge('influx_blocked', () => (this.writer.status().state === 'blocked' ? 1 : 0));
    this.counters.gauge('process_cpu_seconds', () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    });
    this.counters.gauge('process_resident_memory_bytes', () => process.memoryUsage.rss());
    this.counters.gauge('dashboard_streams_open', () => this.dashboard?.openStreams ?? 0);
    this.prometheus.expose(this.counters);
    const perAgent = (read: (a: ReturnType<Dedupe['stats']>[number]) => number) => () => this.dedupe.stats().map((a) => [a.agent, read(a)] as const);
    this.prometheus.family('counter', 'agent_duplicate_batches', 'batches of this agent already written, acked without writing', 'agent', perAgent((a) => a.duplicates));
    this.prometheus.family('gauge', 'agent_missing_seqs', 'seqs of this agent below its highest not received yet', 'agent', perAgent((a) => a.gaps));
    this.prometheus.family('gauge', 'agent_seq_streams', 'dedupe streams of this agent (more than one: a seq jump or a new epoch)', 'agent', perAgent((a) => a.streams));
  }

  /** The broker URL agents publish to (the embedded broker's, or the external one). */
  get brokerUrl(): string {
    if (this.url === undefined) throw new Error('cloud processor not started');
    return this.url;
  }

  /** The HTTP port (batch uplink, /metrics, /health), when the HTTP server is enabled. */
  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /** Calls `listener` for every alert transition, after its batch is durable. */
  onAlert(listener: (alert: AlertEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    if (config.broker.type === 'embedded') {
      const { host, port, users } = config.broker;
      this.broker = await startEmbeddedBroker({
        host,
        port,
        users,
        processorClientId: config.ingest.mqttClientId,
        maxClients: config.broker.maxClients,
        maxPacketBytes: config.maxBatchBytes + MQTT_PACKET_OVERHEAD_BYTES,
        refused: (kind) => this.counters.inc(brokerRefusalCounter[kind]),
        log: log.child({ unit: 'broker' }),
      });
      this.url = this.broker.url;
      log.info({ url: this.url, users: users.length }, users.length > 0 ? 'embedded MQTT broker listening; logins required' : 'embedded MQTT broker listening; open to any client');
    } else {
      this.url = config.broker.url;
    }
    const login = config.broker.type === 'embedded' ? this.broker?.processorLogin : config.broker;
    await this.writer.ensureDatabase();
    const onAckSent = (): void => this.counters.inc('acks_sent');
    this.ingest = new MqttIngest(
      { url: this.url, username: login?.username, password: login?.password, clientId: config.ingest.mqttClientId, startTimeoutMs: config.ingest.startTimeoutMs, maxStallMs: config.ingest.maxStallMs,
        onPresence: (agent, online) => {
          this.fleet.presence(agent, online);
          this.dashboard?.fleetChanged();
        },
      },
      this.intake,
      log.child({ unit: 'ingest' }),
      onAckSent,
    );
    await this.ingest.start();
    const ingest = this.ingest;
    this.sinks.push(new MqttAlertSink((topic, payload) => ingest.publish(topic, payload)));
    if (config.http) {
      const dashboard = dashboardServed(config.http);
      if (dashboard.served) this.dashboard = this.startDashboard();
      this.http = await startCloudHttp({
        ...config.http,
        maxBatchBytes: config.maxBatchBytes,
        intake: this.intake,
        metrics: () => this.metrics(),
        health: () => this.health(),
        routes: {
          '/api/agents': () => this.dedupe.stats(),
          '/api/alerts': () => ({ open: this.alerts.openAlerts(), recent: this.alerts.recent() }),
          ...this.dashboard?.routes,
        },
        ...(this.dashboard ? { streams: this.dashboard.eventStreams, pages: this.dashboard.pages } : {}),
        onAckSent,
        onRefused: (status, reason) => {
          this.counters.inc('http_uploads_refused');
          this.problems.note(status === 413 ? 'http_upload_too_large' : status === 429 ? 'http_upload_agent_busy' : 'http_upload_busy', reason);
        },
        onForbidden: (_status, reason) => {
          this.counters.inc('http_uploads_forbidden');
          this.problems.note('http_upload_forbidden', reason);
        },
        onReadRefused: (path) => {
          this.counters.inc('http_reads_refused');
          this.problems.note('http_read_refused', `GET ${path} without the read token`);
        },
      });
      const { agents, token } = config.http;
      log.info({ port: this.http.port, agentTokens: agents.length }, 'HTTP listening');
      log.info({ url: dashboard.served ? `http://${config.http.host}:${this.http.port}/dashboard/` : undefined, why: dashboard.why }, dashboard.served ? 'dashboard served' : 'dashboard not served');
      if (token !== undefined) log.warn({ agentsWithOwnToken: agents.length }, 'http.token is shared: whoever holds it may post batches as any agent without a token of its own in http.agents');
    }
    this.timers.push(setInterval(() => this.reportProblems(), config.reportIntervalMs));
    this.timers.push(setInterval(() => this.saveDedupe(), config.dedupe.persistIntervalMs));
    this.timers.push(setInterval(() => void this.checkpoint(), config.detection.checkpointIntervalMs));
    log.info({ broker: redactUrl(this.url), influx: redactUrl(config.influx.url), database: config.influx.database }, 'cloud processor started');
  }

  /**
   * Stops taking batches; batches already being written get up to `drainMs` to finish, so their
   * alerts and acks go out (a write still failing then is abandoned: its batch stays unacked and
   * the agent sends it again).
   */
  async stop(drainMs = 10_000): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.intake.stop(new WriteAbortedError('stopping'));
    if (!(await this.intake.settled(drainMs))) this.options.log.warn({ inFlight: this.intake.inFlight }, 'stopping with batches still being written; they stay unacked');
    this.writer.abort();
    for (const sink of this.sinks) await sink.stop(2_000);
    await this.ingest?.stop();
    this.dashboard?.stop(); // ends its event streams, which would hold the server open
    await new Promise<void>((resolve) => (this.http ? this.http.server.close(() => resolve()) : resolve()));
    await this.broker?.close();
    await this.deadLetter.close();
    this.saveDedupe();
    await this.checkpointing;
    await this.checkpoint();
    this.reportProblems();
  }

  /**
   * For /health: ok, or each reason it is not (see cloudHealthReasons): InfluxDB refusing writes,
   * or InfluxDB failing, the broker lost or the backlog full for longer than ingest.maxStallMs.
   */
  health(): { ok: boolean; reasons: string[]; backlog: number; inFlight: number; openAlerts: number; influx: ReturnType<InfluxWriter['status']> } {
    const influx = this.writer.status();
    const reasons = cloudHealthReasons(
      { influx, broker: this.ingest?.connection ?? { connected: false, downSinceMs: undefined }, backlogFullSinceMs: this.ingest?.backlogFullSinceMs, maxStallMs: this.options.config.ingest.maxStallMs },
      Date.now(),
    );
    return { ok: reasons.length === 0, reasons, backlog: this.intake.backlog, inFlight: this.intake.inFlight, openAlerts: this.alerts.openCount, influx };
  }

  /** Writes detector state and open alerts to stateDir, so baselines survive a restart. */
  async checkpoint(): Promise<void> {
    if (this.checkpointing) return; // one at a time: a slow disk must not pile them up
    const t0 = Date.now();
    this.checkpointing = writeCheckpoint(this.checkpointFile, this.detection.snapshotParts()).then(
      (bytes) => this.options.log.debug({ bytes, series: this.detection.size, ms: Date.now() - t0 }, 'detector checkpoint written'),
      (err: unknown) => this.options.log.error({ err: (err as Error).message, file: this.checkpointFile }, 'cannot write detector checkpoint'),
    );
    await this.checkpointing;
    this.checkpointing = undefined;
  }

  /** The checkpoint being written, if one is. */
  private checkpointing: Promise<void> | undefined;

  /** Prometheus text: the processor's counters, each agent's duplicates and gaps, the latency histograms. */
  metrics(): Promise<string> {
    return this.prometheus.text();
  }

  /** The dashboard, reading windows back from the InfluxDB the processor writes to. */
  private startDashboard(): Dashboard {
    const { config } = this.options;
    const influx = config.influx;
    return new Dashboard({
      fleet: this.fleet,
      alerts: () => ({ open: this.alerts.openAlerts(), recent: this.alerts.recent() }),
      influx: { url: influx.url, database: influx.api === 'v2' ? (influx.bucket ?? influx.database) : influx.database, headers: influxAuthHeaders(influx), timeoutMs: influx.timeoutMs },
      maxEventStreams: config.http?.maxEventStreams ?? 1,
      lost: (why) => {
        this.counters.inc(why === 'full' ? 'dashboard_streams_refused' : 'dashboard_streams_dropped');
        this.problems.note(`dashboard_stream_${why}`, why === 'full' ? `http.maxEventStreams ${config.http?.maxEventStreams} dashboards open: another was refused` : 'a dashboard read its events too slowly and was cut off');
      },
    });
  }

  private saveDedupe(): void {
    if (!this.dedupe.dirty) return;
    try {
      writeState(this.dedupeFile, this.dedupe.snapshot());
    } catch (err) {
      this.options.log.error({ err: (err as Error).message, file: this.dedupeFile }, 'cannot save dedupe state');
    }
  }

  private publish(alert: AlertEvent): void {
    for (const sink of this.sinks) sink.send(alert);
    this.dashboard?.alert(alert);
    for (const listener of this.listeners) listener(alert);
  }

  private reportProblems(): void {
    for (const p of this.problems.drain()) this.options.log.warn({ reason: p.reason, count: p.count, example: p.example }, 'skipped input');
    for (const p of this.alarms.drain()) this.options.log.error({ reason: p.reason, count: p.count, example: p.example }, 'batches tracked apart from their agent’s seqs');
    // Alert transitions the sinks dropped at their bounds since the last report (the totals are in /metrics).
    const webhook = this.webhookTotal('dropped');
    const mqtt = this.ingest?.dropped ?? 0;
    if (webhook > this.reportedDrops.webhook || mqtt > this.reportedDrops.mqtt) {
      this.options.log.warn({ webhook: webhook - this.reportedDrops.webhook, mqtt: mqtt - this.reportedDrops.mqtt }, 'alert transitions dropped by their sinks (queue full or receiver down)');
    }
    const shed = this.ingest?.shed ?? 0;
    if (shed > this.reportedDrops.shed) {
      this.options.log.warn({ batches: shed - this.reportedDrops.shed, maxStallMs: this.options.config.ingest.maxStallMs }, 'backlog full for longer than ingest.maxStallMs: batches left unacked, the agents send them again');
    }
    this.reportedDrops = { webhook, mqtt, shed };
  }

  private reportedDrops = { webhook: 0, mqtt: 0, shed: 0 };

  /** A count summed over every webhook sink. */
  private webhookTotal(count: keyof WebhookCounts): number {
    return this.webhooks.reduce((n, w) => n + w.counts[count], 0);
  }
}
