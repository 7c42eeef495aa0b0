import { z } from 'zod';
import { DEFAULT_MAX_BATCH_BYTES } from '../batch.js';
import { HttpServerConfig, HttpUrl, LogLevel, MqttUrl, Port, PositiveMs } from './common.js';

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

export const DetectionConfig = z.object({
  /**
   * The detector that judges every series, by its name in the cloud processor's registry
   * (`ensemble`, `robust-zscore`, `seasonal`, …). The default ensemble needs no tuning.
   */
  detector: z.string().min(1).default('ensemble'),
  /**
   * That detector's settings, checked by its own schema when the processor starts (every issue
   * names the key). Omitted keys take the detector's defaults.
   */
  settings: z.record(z.string(), z.unknown()).default({}),
  /** Series with detector state kept in memory; past it the least recently seen is dropped. */
  maxSeries: z.number().int().min(1).default(100_000),
  // The keys below predate `detector`; they configure `robust-zscore` and stay valid.
  /** Recent windows per series and field that the robust z-score compares against. */
  historyWindows: z.number().int().min(8).max(1_000).default(48),
  /** Windows a series must have before it is scored. */
  warmupWindows: z.number().int().min(4).default(12),
  /** Robust z-score at which a window is anomalous. */
  zThreshold: z.number().positive().default(8),
});
export type DetectionConfig = z.output<typeof DetectionConfig>;

export const AlertsConfig = z.object({
  /** Consecutive normal windows before an open alert resolves (hysteresis). */
  resolveAfterWindows: z.number().int().min(1).default(3),
  /** After a resolve, the same series and detector does not re-open for this long (event time). */
  cooldownMs: z.number().int().min(0).default(0),
  /** Bound on open alerts kept in memory. */
  maxOpen: z.number().int().min(1).default(10_000),
});

export const ProcessorConfigSchema = z.object({
  broker: BrokerConfig.default({ type: 'embedded', host: '127.0.0.1', port: 1883 }),
  influx: InfluxConfig.prefault({}),
  maxBatchBytes: z.number().int().min(1024).default(DEFAULT_MAX_BATCH_BYTES),
  dedupe: z.object({ windowSize: z.number().int().min(16).max(1 << 20).default(4096) }).prefault({}),
  detection: DetectionConfig.prefault({}),
  alerts: AlertsConfig.prefault({}),
  http: HttpServerConfig.optional(),
  reportIntervalMs: PositiveMs.default(10_000),
  log: z.object({ level: LogLevel.default('info') }).prefault({}),
});

export type ProcessorConfig = z.output<typeof ProcessorConfigSchema>;
export type ProcessorConfigInput = z.input<typeof ProcessorConfigSchema>;
