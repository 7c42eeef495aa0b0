import { Counters, ProblemReport, type AlertEvent, type Logger, type ProcessorConfig } from '@tributary/firmware-schemas';
import { AlertLifecycle } from './alerts/lifecycle.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { cloudCounterHelp, type CloudCounter } from './counters.js';
import { Dedupe } from './dedupe.js';
import { detectors } from './detect/registry.js';
import { MqttIngest } from './ingest/mqtt.js';
import { InfluxWriter } from './influx/writer.js';
import { BatchProcessor } from './processor.js';
import { SeriesDetectors } from './series-detectors.js';

export interface CloudOptions {
  readonly config: ProcessorConfig;
  readonly log: Logger;
}

const DETECTOR = 'robust-zscore';

/**
 * The cloud processor: broker (embedded aedes by default) → ingest → BatchProcessor → InfluxDB,
 * alerts to MQTT, the log and listeners. Lifecycle: construct → start → stop.
 */
export class CloudProcessor {
  readonly counters = new Counters<CloudCounter>(cloudCounterHelp);
  readonly alerts: AlertLifecycle;
  readonly writer: InfluxWriter;
  private readonly problems = new ProblemReport();
  private readonly processor: BatchProcessor;
  private readonly listeners = new Set<(alert: AlertEvent) => void>();
  private broker: EmbeddedBroker | undefined;
  private ingest: MqttIngest | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private url: string | undefined;

  constructor(private readonly options: CloudOptions) {
    const { config, log } = options;
    this.alerts = new AlertLifecycle(config.alerts);
    this.writer = new InfluxWriter(config.influx, log.child({ unit: 'influx' }), () => this.counters.inc('write_retries'));
    const detection = config.detection;
    const series = new SeriesDetectors(detection.maxSeries, () => detectors[DETECTOR].create(detection), () => this.counters.inc('series_evicted'));
    this.processor = new BatchProcessor({
      maxBatchBytes: config.maxBatchBytes,
      dedupe: new Dedupe(config.dedupe.windowSize),
      detectors: series,
      detectorName: DETECTOR,
      alerts: this.alerts,
      writer: this.writer,
      counters: this.counters,
      problems: this.problems,
      onAlert: (alert) => this.publish(alert),
    });
    this.counters.gauge('open_alerts', () => this.alerts.openCount);
    this.counters.gauge('detector_series', () => series.size);
  }

  /** The broker URL agents publish to (the embedded broker's, or the external one). */
  get brokerUrl(): string {
    if (this.url === undefined) throw new Error('cloud processor not started');
    return this.url;
  }

  /** Calls `listener` for every alert transition, after its batch is durable. */
  onAlert(listener: (alert: AlertEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    if (config.broker.type === 'embedded') {
      this.broker = await startEmbeddedBroker(config.broker.host, config.broker.port);
      this.url = this.broker.url;
      log.info({ url: this.url }, 'embedded MQTT broker listening');
    } else {
      this.url = config.broker.url;
    }
    await this.writer.ensureDatabase();
    this.ingest = new MqttIngest(this.url, this.processor, log.child({ unit: 'ingest' }));
    this.ingest.onAckSent = () => this.counters.inc('acks_sent');
    await this.ingest.start();
    this.reportTimer = setInterval(() => this.reportProblems(), config.reportIntervalMs);
    log.info({ broker: this.url, influx: config.influx.url, database: config.influx.database }, 'cloud processor started');
  }

  /** Stops taking batches; a write still retrying is abandoned (its batch stays unacked). */
  async stop(): Promise<void> {
    clearInterval(this.reportTimer);
    this.writer.abort();
    await this.ingest?.stop();
    await this.broker?.close();
    this.reportProblems();
  }

  private publish(alert: AlertEvent): void {
    this.ingest?.publishAlert(alert);
    const level = alert.state === 'resolved' ? 'info' : 'warn';
    this.options.log[level]({ alert: { id: alert.id, state: alert.state, severity: alert.severity, device: alert.device, metric: alert.metric } }, alert.message);
    for (const listener of this.listeners) listener(alert);
  }

  private reportProblems(): void {
    for (const p of this.problems.drain()) this.options.log.warn({ reason: p.reason, count: p.count, example: p.example }, 'skipped input');
  }
}
