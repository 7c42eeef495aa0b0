import { z } from 'zod';
import { MAX_WINDOWS_PER_BATCH } from '../batch.js';
import { AgentId, MetricName } from '../ids.js';
import { DEFAULT_MAX_TELEMETRY_BYTES } from '../telemetry.js';
import { topics } from '../topics.js';
import { BackoffConfig, HttpServerConfig, HttpUrl, LogLevel, MqttUrl, PositiveMs } from './common.js';

export const MqttSourceConfig = z.object({
  type: z.literal('mqtt'),
  name: z.string().min(1).default('mqtt'),
  url: MqttUrl,
  topics: z.array(z.string().min(1)).min(1).default([topics.telemetryPattern]),
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  maxPayloadBytes: z.number().int().min(64).max(1 << 20).default(DEFAULT_MAX_TELEMETRY_BYTES),
});

export const SourceConfig = z.discriminatedUnion('type', [MqttSourceConfig]);
export type SourceConfig = z.output<typeof SourceConfig>;

export const RangeFilterConfig = z
  .object({ type: z.literal('range'), min: z.number(), max: z.number() })
  .refine((f) => f.min <= f.max, { message: 'min must not exceed max', path: ['min'] });

export const FilterConfig = z.discriminatedUnion('type', [RangeFilterConfig]);
export type FilterConfig = z.output<typeof FilterConfig>;

export const WindowsConfig = z
  .object({
    /** Window length; windows are aligned to the epoch. */
    lengthMs: PositiveMs.default(60_000),
    /** Slide interval; equal to lengthMs (tumbling) when omitted. */
    slideMs: PositiveMs.optional(),
    /** The watermark trails the newest event time by this much; later readings are late. */
    allowedLatenessMs: z.number().int().min(0).default(5_000),
    /** A reading stamped further than this ahead of the agent's clock is rejected. */
    maxFutureMs: z.number().int().min(0).default(60_000),
    /** Bound on active series (device + metric). */
    maxSeries: z.number().int().min(1).default(10_000),
    onSeriesLimit: z.enum(['reject-new', 'evict-lru']).default('reject-new'),
    lateReadings: z.enum(['drop', 're-emit']).default('drop'),
    /** With `re-emit`, closed windows stay correctable this long behind the watermark. */
    lateHorizonMs: z.number().int().min(0).default(600_000),
    /** Bound on panes held per series (a pane is one slide interval). */
    maxPanesPerSeries: z.number().int().min(1).default(64),
  })
  .refine((w) => w.slideMs === undefined || w.lengthMs % w.slideMs === 0, {
    message: 'lengthMs must be a multiple of slideMs',
    path: ['lengthMs'],
  });

export const BatchConfig = z.object({
  maxWindows: z.number().int().min(1).max(MAX_WINDOWS_PER_BATCH).default(500),
  maxDelayMs: PositiveMs.default(1_000),
});

/** Settings every uplink shares: how many batches are in flight and how resends back off. */
const UplinkCommon = {
  /** Batches sent and not yet acked at any time. */
  maxInFlight: z.number().int().min(1).default(8),
  /** A batch not acked this long after it was sent is sent again (the wait doubles per attempt, with jitter, up to backoff.maxMs). */
  ackTimeoutMs: PositiveMs.default(15_000),
  /** Reconnects and retries: exponential backoff with full jitter. */
  backoff: BackoffConfig.prefault({}),
};

export const MqttUplinkConfig = z.object({
  type: z.literal('mqtt'),
  url: MqttUrl,
  ...UplinkCommon,
});

/** POST each batch to `{url}/api/v1/batches`; the cloud answers 200 with the ack only after the write. */
export const HttpUplinkConfig = z.object({
  type: z.literal('http'),
  url: HttpUrl,
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: z.string().min(1).optional(),
  requestTimeoutMs: PositiveMs.default(30_000),
  ...UplinkCommon,
});

export const UplinkConfig = z.discriminatedUnion('type', [MqttUplinkConfig, HttpUplinkConfig]);
export type UplinkConfig = z.output<typeof UplinkConfig>;

export const DiskSpoolConfig = z
  .object({
    type: z.literal('disk'),
    /** Directory of the segment files; `<stateDir>/spool` when omitted. */
    dir: z.string().min(1).optional(),
    maxSpoolBytes: z.number().int().min(4096).default(64 * 1024 * 1024),
    segmentBytes: z.number().int().min(1024).default(1024 * 1024),
    onFull: z.enum(['drop-oldest', 'reject-new']).default('drop-oldest'),
    /**
     * `per-batch`: fsync every batch before it is sent (one flash write per batch; nothing that
     * left the gateway can be lost). `interval`: fsync every fsyncIntervalMs (fewer writes for
     * SD-card wear; a power cut loses up to that much, and the next start skips seqs to stay safe).
     */
    fsync: z.enum(['per-batch', 'interval']).default('per-batch'),
    fsyncIntervalMs: PositiveMs.default(1_000),
  })
  .refine((s) => s.segmentBytes * 4 <= s.maxSpoolBytes, { message: 'segmentBytes must be at most a quarter of maxSpoolBytes', path: ['segmentBytes'] });

/** Batches in memory only: lost on restart; for gateways whose storage must not be written. */
export const MemorySpoolConfig = z.object({
  type: z.literal('memory'),
  maxBatches: z.number().int().min(1).default(1_000),
  onFull: z.enum(['drop-oldest', 'reject-new']).default('drop-oldest'),
});

export const SpoolConfig = z.discriminatedUnion('type', [DiskSpoolConfig, MemorySpoolConfig]);
export type SpoolConfig = z.output<typeof SpoolConfig>;

export const AgentConfigSchema = z.object({
  agentId: AgentId,
  site: z.string().min(1).max(64).regex(/^[^\u0000-\u001f\u007f\\]*$/, 'site must not contain control characters or "\\"').optional(),
  sources: z.array(SourceConfig).min(1),
  /** Filter chain per metric name; `default` applies to metrics without their own chain. */
  filters: z.record(z.union([z.literal('default'), MetricName]), z.array(FilterConfig)).default({}),
  windows: WindowsConfig.prefault({}),
  batch: BatchConfig.prefault({}),
  uplink: UplinkConfig,
  spool: SpoolConfig.default({ type: 'disk', maxSpoolBytes: 64 * 1024 * 1024, segmentBytes: 1024 * 1024, onFull: 'drop-oldest', fsync: 'per-batch', fsyncIntervalMs: 1_000 }),
  /** Durable state (spool, seq); the CLI's --state-dir overrides it. */
  stateDir: z.string().min(1).default('.tributary/agent'),
  http: HttpServerConfig.optional(),
  /** How often counters of skipped input are logged (one line per reason per interval). */
  reportIntervalMs: PositiveMs.default(10_000),
  log: z.object({ level: LogLevel.default('info') }).prefault({}),
});

export type AgentConfig = z.output<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;
