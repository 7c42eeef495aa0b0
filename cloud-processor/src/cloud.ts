import type { Server } from 'node:http';
import { join } from 'node:path';
import type { AlertEvent, ProcessorConfig } from '@tributary/firmware-schemas';
import { MQTT_PACKET_OVERHEAD_BYTES, ProcessMetrics, redactUrl, type Logger } from '@tributary/runtime';
import type { AlertLifecycle } from './alerts/lifecycle.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.js';
import { brokerRefusalCounter } from './counters.js';
import { Dashboard } from './dashboard/dashboard.js';
import { FleetView } from './dashboard/fleet-view.js';
import { dashboardServed } from './dashboard/session.js';
import type { Dedupe } from './state/dedupe.js';
import { cloudHealthReasons } from './health.js';
import { startCloudHttp } from './ingest/http.js';
import { influxAuthHeaders } from './influx/target.js';
import { Intake } from './ingest/intake.js';
import { MqttIngest } from './ingest/mqtt.js';
import { WriteAbortedError, type InfluxWriter } from './influx/writer.js';
import { MqttAlertSink } from './alerts/sinks/mqtt.js';
import { readCheckpoint, writeCheckpoint } from './state/checkpoint.js';
import type { Detection } from './detect/detection.js';
import { Outputs } from './outputs.js';
import { createPartition } from './partition.js';
import { readState, writeState } from './state/state-file.js';

export interface CloudOptions {
  readonly config: ProcessorConfig;
  readonly log: Logger;
}

/**
 * The cloud processor: broker (embedded aedes by default) and HTTP → bounded intake →
 * BatchProcessor → InfluxDB; alerts to MQTT, the log and listeners. Lifecycle: construct → start → stop.
 * One partition of state, kept in stateDir (a cluster member, cluster/cluster-processor.ts, keeps many in JetStream).
 */
export class CloudProcessor {
  readonly alerts: AlertLifecycle;
  readonly dedupe: Dedupe;
  readonly intake: Intake;
  readonly detection: Detection;
  /** /metrics: the counters and gauges, per-agent dedupe figures and the latency histograms. */
  readonly prometheus = new ProcessMetrics('tributary_cloud');
  /** Every agent's presence, last batch and counters, for the dashboard. */
  readonly fleet: FleetView;
  private dashboard: Dashboard | undefined;
  private readonly outputs: Outputs;
  private readonly dedupeFile: string;
  private readonly checkpointFile: string;
  private broker: EmbeddedBroker | undefined;
  private ingest: MqttIngest | undefined;
  private http: { server: Server; port: number } | undefined;
  private timers: NodeJS.Timeout[] = [];
  private url: string | undefined;

  constructor(private readonly options: CloudOptions) {
    const { config, log } = options;
    this.outputs = new Outputs(config, log);
    this.fleet = new FleetView(config.dedupe.maxAgents, (agent) => {
      this.counters.inc('dashboard_agents_evicted');
      this.outputs.problems.note('dashboard_agents_evicted', `dedupe.maxAgents ${config.dedupe.maxAgents} agents known: the dashboard forgot ${agent}, heard from least recently`);
    });
    this.outputs.onAlert((alert) => this.dashboard?.alert(alert));
    const partition = createPartition(config, this.outputs, { maxSeries: config.detection.maxSeries, maxSeriesKey: 'detection.maxSeries' }, (alert) => this.outputs.publish(alert), {
      onWritten: (batch) => {
        this.fleet.written(batch, Date.now());
        this.dashboard?.fleetChanged();
      },
      latency: {
        windowDurable: this.prometheus.latency('window_end_to_durable', 'from the end of a window (event time; first emissions) to the moment its batch is durable in InfluxDB'),
        alertOpened: this.prometheus.latency('window_end_to_alert', 'from the end of the window that opened an alert to the alert going out (its batch durable)'),
      },
    });
    ({ alerts: this.alerts, dedupe: this.dedupe, detection: this.detection } = partition);
    this.dedupeFile = join(config.stateDir, 'dedupe.json');
    const dedupeState = readState(this.dedupeFile);
    const version = this.dedupe.restore(dedupeState);
    if (dedupeState !== undefined && version === undefined) log.error({ file: this.dedupeFile }, 'dedupe state of an unknown format: duplicates start afresh');
    else if (version !== undefined) log.info({ file: this.dedupeFile, agents: this.dedupe.stats().length, version }, 'dedupe state restored');
    this.checkpointFile = join(config.stateDir, 'detection.json.gz');
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
    this.intake = new Intake(config.ingest.maxBacklogBatches, config.ingest.maxBacklogBytes, (payload, agent) => partition.processor.process(payload, agent));
    const c = this.counters;
    c.gauge('open_alerts', () => this.alerts.openCount);
    c.gauge('mqtt_alerts_dropped', () => this.ingest?.dropped ?? 0);
    c.gauge('batches_shed', () => this.ingest?.shed ?? 0);
    c.gauge('ack_publish_failures', () => this.ingest?.ackPublishFailures ?? 0);
    c.gauge('detector_series', () => this.detection.size);
    c.gauge('backlog_batches', () => this.intake.backlog);
    c.gauge('backlog_bytes', () => this.intake.backlogBytes);
    c.gauge('batches_in_flight', () => this.intake.inFlight);
    c.gauge('dashboard_streams_open', () => this.dashboard?.openStreams ?? 0);
    this.prometheus.expose(this.counters);
    const perAgent = (read: (a: ReturnType<Dedupe['stats']>[number]) => number) => () => this.dedupe.stats().map((a) => [a.agent, read(a)] as const);
    this.prometheus.family('counter', 'agent_duplicate_batches', 'batches of this agent already written, acked without writing', 'agent', perAgent((a) => a.duplicates));
    this.prometheus.family('gauge', 'agent_missing_seqs', 'seqs of this agent below its highest not received yet', 'agent', perAgent((a) => a.gaps));
    this.prometheus.family('gauge', 'agent_seq_streams', 'dedupe streams of this agent (more than one: a seq jump or a new epoch)', 'agent', perAgent((a) => a.streams));
  }

  get counters(): Outputs['counters'] {
    return this.outputs.counters;
  }

  get writer(): InfluxWriter {
    return this.outputs.writer;
  }

  get deadLetter(): Outputs['deadLetter'] {
    return this.outputs.deadLetter;
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
    return this.outputs.onAlert(listener);
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
        unauthenticated: config.broker.unauthenticated,
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
    this.outputs.addSink(new MqttAlertSink((topic, payload) => ingest.publish(topic, payload)));
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
        onRefused: (status, reason) => this.outputs.uploadRefused(status, reason),
        onForbidden: (_status, reason) => this.outputs.uploadForbidden(reason),
        onReadRefused: (path) => this.outputs.readRefused(path),
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
    await this.outputs.stop();
    await this.ingest?.stop();
    this.dashboard?.stop(); // ends its event streams, which would hold the server open
    await new Promise<void>((resolve) => (this.http ? this.http.server.close(() => resolve()) : resolve()));
    await this.broker?.close();
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
        this.outputs.problems.note(`dashboard_stream_${why}`, why === 'full' ? `http.maxEventStreams ${config.http?.maxEventStreams} dashboards open: another was refused` : 'a dashboard read its events too slowly and was cut off');
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

  private reportProblems(): void {
    this.outputs.report({ alerts: this.ingest?.dropped ?? 0, shed: this.ingest?.shed ?? 0 });
  }
}
