import type { AlertEvent, ProcessorConfig } from '@tributary/firmware-schemas';
import { ProcessMetrics, redactUrl, tlsListenerOptions, type Logger } from '@tributary/runtime';
import { MqttAlertSink } from './alerts/sinks/mqtt.js';
import { startBroker, type BrokerLink } from './broker/registry.js';
import { serveProcessorHttp, type ProcessorHttp } from './cloud-http.js';
import { exposeCloudMetrics, processorLatency } from './cloud-metrics.js';
import { FleetView } from './dashboard/fleet-view.js';
import type { AlertsView, DetectionRunner } from './detect/detection-runner.js';
import { cloudHealth, type CloudHealth } from './health.js';
import { WriteAbortedError, type InfluxWriter } from './influx/writer.js';
import { Intake } from './ingest/intake.js';
import { MqttIngest, mqttIngestOptions } from './ingest/mqtt.js';
import { Outputs } from './outputs.js';
import { SinglePartition } from './single-partition.js';
import type { Dedupe } from './state/dedupe.js';

export interface CloudOptions {
  readonly config: ProcessorConfig;
  readonly log: Logger;
}

/**
 * The cloud processor: broker (broker/registry.ts: embedded aedes by default) and HTTP → bounded
 * intake → BatchProcessor → InfluxDB; alerts to the sinks, MQTT and listeners. One partition of
 * state, kept in stateDir (a cluster member keeps many in JetStream: cluster/cluster-processor.ts).
 * Lifecycle: construct (opens and reads nothing) → start → stop. This file only wires the units.
 */
export class CloudProcessor {
  readonly alerts: AlertsView;
  readonly dedupe: Dedupe;
  readonly intake: Intake;
  /** In this thread, or over the detection worker threads (detection.workers). */
  readonly detection: DetectionRunner;
  /** /metrics: the counters and gauges, per-agent dedupe figures and the latency histograms. */
  readonly prometheus = new ProcessMetrics('tributary_cloud');
  /** Every agent's presence, last batch and counters, for the dashboard. */
  readonly fleet: FleetView;
  private readonly outputs: Outputs;
  /** Its one partition of state, kept in stateDir, and the detection worker threads. */
  private readonly partition: SinglePartition;
  private broker: BrokerLink | undefined;
  private ingest: MqttIngest | undefined;
  /** The HTTP server (batch uploads, /metrics, /health, the API and the dashboard), when config.http asks for one. */
  private http: ProcessorHttp | undefined;
  private reportTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CloudOptions) {
    const { config, log } = options;
    this.outputs = new Outputs(config, log);
    this.fleet = new FleetView(
      config.dedupe.maxAgents,
      (agent) => this.outputs.dashboardForgot(agent),
      () => this.http?.dashboard?.fleetChanged(),
    );
    this.outputs.onAlert((alert) => this.http?.dashboard?.alert(alert));
    const onWritten = (batch: Parameters<FleetView['written']>[0]): void => this.fleet.written(batch, Date.now());
    const partition = (this.partition = new SinglePartition(config, this.outputs, log, {
      onWritten,
      latency: processorLatency(this.prometheus),
    }));
    ({ dedupe: this.dedupe, detection: this.detection } = partition);
    this.alerts = this.detection.alerts;
    this.intake = new Intake(config.ingest.maxBacklogBatches, config.ingest.maxBacklogBytes, (payload, agent) =>
      partition.processor.process(payload, agent),
    );
    exposeCloudMetrics(this.prometheus, this.counters, {
      ...partition,
      alerts: this.alerts,
      intake: this.intake,
      ingest: () => this.ingest,
      dashboardStreams: () => this.http?.dashboard?.openStreams ?? 0,
    });
  }

  get counters(): Outputs['counters'] {
    return this.outputs.counters;
  }

  /** Worker threads detection runs on (0: in the event loop's thread). */
  get detectionWorkers(): number {
    return this.detection.workers;
  }

  get writer(): InfluxWriter {
    return this.outputs.writer;
  }

  /** The broker URL agents publish to (the embedded broker's, or the external one). */
  get brokerUrl(): string {
    if (this.broker === undefined) throw new Error('cloud processor not started');
    return this.broker.url;
  }

  /** The HTTP port (batch uplink, /metrics, /health), when the HTTP server is enabled. */
  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /** Calls `listener` for every alert transition, after its batch is durable. */
  onAlert(listener: (alert: AlertEvent) => void): () => void {
    return this.outputs.onAlert(listener);
  }

  /** Reads the TLS files first: one that cannot be used fails the start (TlsConfigError) before anything listens. */
  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (err) {
      await this.partition.endThreads(); // threads of a processor that did not start must not keep the process alive
      throw err;
    }
  }

  private async startParts(): Promise<void> {
    const { config, log } = this.options;
    // TLS files are read before anything listens: one that cannot be used fails the start (the broker's in broker/registry.ts).
    const httpTls = config.http?.tls === undefined ? undefined : tlsListenerOptions(config.http.tls, 'http.tls');
    await this.partition.restore();
    this.broker = await startBroker({ config, refused: (kind) => this.outputs.brokerRefused(kind), log });
    await this.writer.ensureDatabase();
    const onAckSent = (): void => this.counters.inc('acks_sent');
    const onPresence = (agent: string, online: boolean): void => this.fleet.presence(agent, online);
    const ingest = (this.ingest = new MqttIngest(
      mqttIngestOptions(config.ingest, this.broker, onPresence),
      this.intake,
      log.child({ unit: 'ingest' }),
      onAckSent,
    ));
    await ingest.start();
    this.outputs.addSink(new MqttAlertSink((topic, payload) => ingest.publish(topic, payload)));
    const parts = {
      tls: httpTls,
      intake: this.intake,
      fleet: this.fleet,
      alerts: this.alerts,
      dedupe: this.dedupe,
      outputs: this.outputs,
      metrics: () => this.metrics(),
      health: () => this.health(),
      onAckSent,
      log,
    };
    if (config.http) this.http = await serveProcessorHttp({ ...config, http: config.http }, parts);
    this.reportTimer = setInterval(() => this.reportProblems(), config.reportIntervalMs);
    this.partition.startSaving();
    log.info(
      { broker: redactUrl(this.broker.url), influx: redactUrl(config.influx.url), database: config.influx.database },
      'cloud processor started',
    );
  }

  /**
   * Stops taking batches; batches already being written get up to `drainMs` to finish, so their
   * alerts and acks go out (a write still failing then is abandoned: its batch stays unacked and
   * the agent sends it again).
   */
  async stop(drainMs = 10_000): Promise<void> {
    clearInterval(this.reportTimer);
    this.partition.stopSaving();
    this.intake.stop(new WriteAbortedError('stopping'));
    if (!(await this.intake.settled(drainMs)))
      this.options.log.warn(
        { inFlight: this.intake.inFlight },
        'stopping with batches still being written; they stay unacked',
      );
    this.writer.abort();
    await this.outputs.stop();
    await this.ingest?.stop();
    await this.http?.close();
    await this.broker?.close();
    await this.partition.close();
    this.reportProblems();
  }

  /** For /health: ok, or each reason it is not (health.ts). */
  health(): CloudHealth {
    return cloudHealth(
      { writer: this.writer, ingest: this.ingest, intake: this.intake, alerts: this.alerts },
      this.options.config.ingest.maxStallMs,
    );
  }

  /** Prometheus text: the processor's counters, each agent's duplicates and gaps, the latency histograms. */
  metrics(): Promise<string> {
    return this.prometheus.text();
  }

  private reportProblems(): void {
    this.outputs.report({ alerts: this.ingest?.dropped ?? 0, shed: this.ingest?.shed ?? 0 });
  }
}
