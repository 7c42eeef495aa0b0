import type { Server } from 'node:http';
import { join } from 'node:path';
import { Counters, MQTT_PACKET_OVERHEAD_BYTES, ProblemReport, redactUrl, type AlertEvent, type Logger, type ProcessorConfig } from '@tributary/firmware-schemas';
import { AlertLifecycle } from './alerts/lifecycle.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { brokerRefusalCounter, cloudCounterHelp, type CloudCounter } from './counters.js';
import { Dedupe } from './dedupe.js';
import { detectorPlans } from './detect/registry.js';
import { startCloudHttp } from './http.js';
import { Intake } from './ingest/intake.js';
import { MqttIngest } from './ingest/mqtt.js';
import { DeadLetterFile } from './influx/dead-letter.js';
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
  private readonly problems = new ProblemReport();
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
    this.dedupe = new Dedupe(config.dedupe.windowSize, config.dedupe.maxAgents);
    this.dedupeFile = join(config.stateDir, 'dedupe.json');
    this.dedupe.restore(readState(this.dedupeFile));
    this.detection = new Detection(detectorPlans(config.detection), this.alerts, config.detection.maxSeries, () => {
      this.counters.inc('series_evicted');
      this.problems.note('series_evicted', `detection.maxSeries ${config.detection.maxSeries} reached: the least recently seen series' baseline was dropped`);
    });
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
    const processor = new BatchProcessor({
      maxBatchBytes: config.maxBatchBytes,
      dedupe: this.dedupe,
      detection: this.detection,
      writer: this.writer,
      units: config.influx.units,
      counters: this.counters,
      problems: this.problems,
      onAlert: (alert) => this.publish(alert),
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
      { url: this.url, username: login?.username, password: login?.password, clientId: config.ingest.mqttClientId, startTimeoutMs: config.ingest.startTimeoutMs, maxStallMs: config.ingest.maxStallMs },
      this.intake,
      log.child({ unit: 'ingest' }),
      onAckSent,
    );
    await this.ingest.start();
    const ingest = this.ingest;
    this.sinks.push(new MqttAlertSink((topic, payload) => ingest.publish(topic, payload)));
    if (config.http) {
      this.http = await startCloudHttp({
        ...config.http,
        maxBatchBytes: config.maxBatchBytes,
        intake: this.intake,
        metrics: () => this.metrics(),
        health: () => this.health(),
        routes: {
          '/api/agents': () => this.dedupe.stats(),
          '/api/alerts': () => ({ open: this.alerts.openAlerts(), recent: this.alerts.recent() }),
        },
        onAckSent,
        onRefused: (status, reason) => {
          this.counters.inc('http_uploads_refused');
          this.problems.note(status === 413 ? 'http_upload_too_large' : 'http_upload_busy', reason);
        },
      });
      log.info({ port: this.http.port }, 'HTTP listening');
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
    await new Promise<void>((resolve) => (this.http ? this.http.server.close(() => resolve()) : resolve()));
    await this.broker?.close();
    await this.deadLetter.close();
    this.saveDedupe();
    await this.checkpointing;
    await this.checkpoint();
    this.reportProblems();
  }

  /**
   * For /health: not ok while InfluxDB writes are blocked (credentials refused, database or bucket
   * missing): nothing is acked then, and it needs a person. Retrying after an outage is still ok.
   */
  health(): { ok: boolean; backlog: number; inFlight: number; openAlerts: number; influx: ReturnType<InfluxWriter['status']> } {
    const influx = this.writer.status();
    return { ok: influx.state !== 'blocked', backlog: this.intake.backlog, inFlight: this.intake.inFlight, openAlerts: this.alerts.openCount, influx };
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

  /** Prometheus text: the processor's counters and each agent's duplicates and gaps. */
  metrics(): string {
    const lines = [this.counters.toPrometheus('tributary_cloud'), '# TYPE tributary_cloud_agent_duplicate_batches_total counter', '# TYPE tributary_cloud_agent_missing_seqs gauge'];
    for (const a of this.dedupe.stats()) {
      lines.push(`tributary_cloud_agent_duplicate_batches_total{agent="${a.agent}"} ${a.duplicates}`, `tributary_cloud_agent_missing_seqs{agent="${a.agent}"} ${a.gaps}`);
    }
    return `${lines.join('\n')}\n`;
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
    for (const listener of this.listeners) listener(alert);
  }

  private reportProblems(): void {
    for (const p of this.problems.drain()) this.options.log.warn({ reason: p.reason, count: p.count, example: p.example }, 'skipped input');
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
