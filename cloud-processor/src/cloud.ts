import type { AlertEvent, ProcessorConfig } from '@tributary/firmware-schemas';
import { ProcessMetrics, redactUrl, type Logger } from '@tributary/runtime';
import { ProcessorWeb, readHttpTls } from './cloud-http.js';
import { exposeCloudMetrics, processorLatency } from './cloud-metrics.js';
import { ProcessorMqtt } from './cloud-mqtt.js';
import type { AlertsView, DetectionRunner } from './detect/detection-runner.js';
import { cloudHealth, type CloudHealth } from './health.js';
import { WriteAbortedError, type InfluxWriter } from './influx/writer.js';
import { Intake } from './ingest/intake.js';
import { Outputs } from './outputs.js';
import { SinglePartition } from './single-partition.js';
import type { Dedupe } from './state/dedupe.js';

export interface CloudOptions {
  readonly config: ProcessorConfig;
  readonly log: Logger;
}

/**
 * The cloud processor: its broker and client there (cloud-mqtt.ts) and HTTP (cloud-http.ts) → bounded
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
  private readonly outputs: Outputs;
  /** Its one partition of state, kept in stateDir, and the detection worker threads. */
  private readonly partition: SinglePartition;
  /** The HTTP server (batch uploads, /metrics, /health, the API and the dashboard) and the dashboard's fleet view. */
  private readonly web: ProcessorWeb;
  /** The broker and the processor's client there. */
  private readonly mqtt: ProcessorMqtt;

  constructor(private readonly options: CloudOptions) {
    const { config, log } = options;
    const outputs = (this.outputs = new Outputs(config, log, () => this.mqtt.drops));
    this.mqtt = new ProcessorMqtt(config, outputs, log);
    const web = (this.web = new ProcessorWeb(config, outputs, log));
    const partition = (this.partition = new SinglePartition(config, outputs, log, {
      onWritten: (batch) => web.fleet.written(batch, Date.now()),
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
      ingest: () => this.mqtt.ingest,
      dashboardStreams: () => web.openStreams,
    });
  }

  get counters(): Outputs['counters'] {
    return this.outputs.counters;
  }

  get writer(): InfluxWriter {
    return this.outputs.writer;
  }

  /** The broker URL agents publish to (the embedded broker's, or the external one). */
  get brokerUrl(): string {
    return this.mqtt.url;
  }

  /** The HTTP port (batch uplink, /metrics, /health), when the HTTP server is enabled. */
  get httpPort(): number | undefined {
    return this.web.port;
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
    const httpTls = readHttpTls(config);
    await this.partition.restore();
    await this.mqtt.listen();
    await this.writer.ensureDatabase();
    await this.mqtt.subscribe(this.intake, this.web.fleet);
    await this.web.serve(this, httpTls);
    this.outputs.startReports();
    this.partition.startSaving();
    log.info(
      { broker: redactUrl(this.mqtt.url), influx: redactUrl(config.influx.url), database: config.influx.database },
      'cloud processor started',
    );
  }

  /**
   * Stops taking batches; batches already being written get up to `drainMs` to finish, so their
   * alerts and acks go out (a write still failing then is abandoned: its batch stays unacked and
   * the agent sends it again).
   */
  async stop(drainMs = 10_000): Promise<void> {
    this.outputs.stopReports();
    this.partition.stopSaving();
    this.intake.stop(new WriteAbortedError('stopping'));
    if (!(await this.intake.settled(drainMs)))
      this.options.log.warn(
        { inFlight: this.intake.inFlight },
        'stopping with batches still being written; they stay unacked',
      );
    this.writer.abort();
    await this.outputs.stop();
    await this.mqtt.stopIngest();
    await this.web.close();
    await this.mqtt.close();
    await this.partition.close();
    this.outputs.report();
  }

  /** For /health: ok, or each reason it is not (health.ts). */
  health(): CloudHealth {
    return cloudHealth(
      { writer: this.writer, ingest: this.mqtt.ingest, intake: this.intake, alerts: this.alerts },
      this.options.config.ingest.maxStallMs,
    );
  }

  /** Prometheus text: the processor's counters, each agent's duplicates and gaps, the latency histograms. */
  metrics(): Promise<string> {
    return this.prometheus.text();
  }
}
