import { z } from 'zod';
import { DEFAULT_MAX_BATCH_BYTES } from '../batch.js';
import { MetricName } from '../ids.js';
import { HttpUrl, LogLevel, MqttUrl, Port, PositiveMs } from './common.js';

export const EmbeddedBrokerConfig = z.object({
  type: z.literal('embedded'),
  host: z.string().default('127.0.0.1'),
  port: Port.default(1883),
});

export const ExternalBrokerConfig = z.object({
  type: z.literal('external'),
  url: MqttUrl,
});

export const BrokerConfig = z.discriminatedUnion('type', [EmbeddedBrokerConfig, ExternalBrokerConfig]);
export type BrokerConfig = z.output<typeof BrokerConfig>;

export const InfluxConfig = z.object({
  url: HttpUrl.default('http://127.0.0.1:8086'),
  database: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'database must be letters, digits, "_" or "-"').default('tributary'),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Create the database on start when it does not exist. */
  createDatabase: z.boolean().default(true),
  timeoutMs: PositiveMs.default(10_000),
});

/** Which detector judges a series, with what settings and how readily it alerts. */
export const DetectorChoice = z.object({
  /** A detector of the cloud processor's registry (`ensemble`, `robust-zscore`, `seasonal`, …). */
  detector: z.string().min(1).default('ensemble'),
  /** That detector's settings, checked by its own schema at start (every issue names the key). */
  settings: z.record(z.string(), z.unknown()).default({}),
  /**
   * How readily an anomaly becomes an alert: 1 is the default; 2 alerts on points half as
   * surprising, 0.5 only on points twice as surprising.
   */
  sensitivity: z.number().positive().max(100).default(1),
});

/** A metric's own choice; every key unset inherits (no defaults here, unlike DetectorChoice). */
export const DetectorOverride = z.object({
  detector: z.string().min(1).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
  sensitivity: z.number().positive().max(100).optional(),
});

/**
 * The processor's default settings for the default detector. The ensemble's own defaults are tuned
 * for long series (NAB: thousands of rows, the first 15% unscored); a sensor's 5-minute windows
 * make only 288 points a day, so the calibration warm-up is shortened to 24 points (2 hours), and
 * the novelty member remembers 128 shapes (10 hours of windows) instead of 512, which keeps a
 * series' state near 20 kB for fleets of many thousands of series. The calibrated `volatility`
 * member is left out: the window rules judge a window's spread against the noise of the level it
 * is at, which a machine switching on and off needs, and volatility sees nothing in raw rows.
 */
export const DEFAULT_DETECTION_SETTINGS = { calibration: { warmupPoints: 24, rampPoints: 24 }, novelty: { memorySize: 128 }, volatility: false };

export const DetectionConfig = DetectorChoice.extend({
  settings: z.record(z.string(), z.unknown()).default(DEFAULT_DETECTION_SETTINGS),
  /** Per metric name: a different detector, settings or sensitivity (unset keys: the choice above). */
  metrics: z.record(MetricName, DetectorOverride).default({}),
  /** Series with detector state kept in memory; past it the least recently seen is dropped. */
  maxSeries: z.number().int().min(1).default(100_000),
  /** How often detector state is checkpointed to stateDir (also on stop), so baselines survive a redeploy. */
  checkpointIntervalMs: PositiveMs.default(60_000),
});
export type DetectionConfig = z.output<typeof DetectionConfig>;

/** An HTTP endpoint that receives every alert transition as JSON (POST). */
export const WebhookConfig = z.object({
  url: HttpUrl,
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: PositiveMs.default(10_000),
  /** Transitions waiting to be delivered; beyond it the oldest is dropped and counted. */
  maxQueue: z.number().int().min(1).default(1_000),
  /** Attempts per transition (429 and 5xx and network errors are retried with backoff and jitter). */
  maxAttempts: z.number().int().min(1).default(8),
  backoff: z.object({ initialMs: PositiveMs.default(500), maxMs: PositiveMs.default(60_000) }).prefault({}),
});

export const AlertsConfig = z.object({
  /** Consecutive normal windows before an open alert resolves (hysteresis). */
  resolveAfterWindows: z.number().int().min(1).default(3),
  /** An alert stays open at least this long (event time), so a flicker is one alert. */
  minOpenMs: z.number().int().min(0).default(600_000),
  /** After a resolve, the same series and detector does not re-open for this long (event time). */
  cooldownMs: z.number().int().min(0).default(900_000),
  /** Bound on open alerts kept in memory. */
  maxOpen: z.number().int().min(1).default(10_000),
  /** Recent transitions kept for GET /api/alerts. */
  recent: z.number().int().min(0).max(100_000).default(1_000),
  webhooks: z.array(WebhookConfig).default([]),
});

/** The bounded backlog between the transports and the writer (see Intake). */
export const IngestConfig = z.object({
  maxBacklogBatches: z.number().int().min(1).default(64),
  maxBacklogBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
  /** MQTT client id of the processor's persistent session on the broker. */
  mqttClientId: z.string().min(1).max(128).default('tributary-cloud'),
});

/** The HTTP server: batch uplink, /metrics, /health, the API. Omit to disable. */
export const CloudHttpConfig = z.object({
  host: z.string().default('127.0.0.1'),
  port: Port.default(8080),
  /** Bearer token agents must present on POST /api/v1/batches. */
  token: z.string().min(1).optional(),
});

export const ProcessorConfigSchema = z.object({
  broker: BrokerConfig.default({ type: 'embedded', host: '127.0.0.1', port: 1883 }),
  ingest: IngestConfig.prefault({}),
  /** Durable state: dedupe high-water marks (and detector checkpoints). */
  stateDir: z.string().min(1).default('.tributary/cloud'),
  influx: InfluxConfig.prefault({}),
  maxBatchBytes: z.number().int().min(1024).default(DEFAULT_MAX_BATCH_BYTES),
  dedupe: z
    .object({
      /** Seqs below each agent's high-water mark remembered one by one (a bitmap of this many bits). */
      windowSize: z.number().int().min(64).max(1 << 20).default(1024),
      maxAgents: z.number().int().min(1).default(100_000),
      /** How often the dedupe state is written to stateDir (it is also written on stop). */
      persistIntervalMs: PositiveMs.default(1_000),
    })
    .prefault({}),
  detection: DetectionConfig.prefault({}),
  alerts: AlertsConfig.prefault({}),
  http: CloudHttpConfig.optional(),
  reportIntervalMs: PositiveMs.default(10_000),
  log: z.object({ level: LogLevel.default('info') }).prefault({}),
});

export type ProcessorConfig = z.output<typeof ProcessorConfigSchema>;
export type ProcessorConfigInput = z.input<typeof ProcessorConfigSchema>;
