import { z } from 'zod';
import { MAX_WINDOWS_PER_BATCH } from '../batch.js';
import { AgentId, MetricName, Site } from '../ids.js';
import {
  BackoffConfig,
  HttpServerConfig,
  HttpUrl,
  LogLevel,
  MqttLogin,
  MqttProtocolVersion,
  MqttUrl,
  PositiveMs,
} from './common.js';
import { tlsNeedsSecureUrl } from './tls.js';
import { ClientTls, SourceConfig } from './agent-sources.js';

export * from './agent-sources.js';

/**
 * Per-series state of a stateful filter is bounded by `maxSeries`; at the bound the least recently
 * updated series' state is forgotten (counted as `filter_state_evicted`).
 */
const FilterMaxSeries = z.number().int().min(1).default(10_000);

export const RangeFilterConfig = z
  .object({ type: z.literal('range'), min: z.number(), max: z.number() })
  .refine((f) => f.min <= f.max, { message: 'min must not exceed max', path: ['min'] });

/**
 * Report by exception: a reading passes when it differs from the last passed one by more than
 * `delta` (in the metric's unit), or when the last passed one is `heartbeatMs` old or older.
 */
export const DeadbandFilterConfig = z.object({
  type: z.literal('deadband'),
  delta: z.number().min(0),
  heartbeatMs: PositiveMs.default(300_000),
  maxSeries: FilterMaxSeries,
});

/** A token bucket per series on event time: `readingsPerS` sustained, `burst` at once. */
export const RateLimitFilterConfig = z.object({
  type: z.literal('rate-limit'),
  readingsPerS: z.number().positive(),
  burst: z.number().int().min(1).default(1),
  maxSeries: FilterMaxSeries,
});

/** Drops a reading whose (device, seq) was already seen among the last `windowSize` seqs of its series. */
export const DedupeFilterConfig = z.object({
  type: z.literal('dedupe'),
  windowSize: z.number().int().min(1).max(4_096).default(256),
  maxSeries: FilterMaxSeries,
});

/** Drops a reading further than `maxDeviation` from the median of the series' previous `windowSize` readings. */
export const SpikeFilterConfig = z.object({
  type: z.literal('spike'),
  windowSize: z.number().int().min(3).max(31).default(5),
  maxDeviation: z.number().positive(),
  maxSeries: FilterMaxSeries,
});

export const FilterConfig = z.discriminatedUnion('type', [
  RangeFilterConfig,
  DeadbandFilterConfig,
  RateLimitFilterConfig,
  DedupeFilterConfig,
  SpikeFilterConfig,
]);
export type FilterConfig = z.output<typeof FilterConfig>;

export const WindowsConfig = z
  .object({
    /** Window length; windows are aligned to the epoch. */
    lengthMs: PositiveMs.default(60_000),
    /** Slide interval; equal to lengthMs (tumbling) when omitted. */
    slideMs: PositiveMs.optional(),
    /** A device's watermark trails its newest event time by this much; later readings are late. */
    allowedLatenessMs: z.number().int().min(0).default(5_000),
    /**
     * Event time progresses per device. When no reading has advanced a device's event time for
     * this long (agent clock), its windows close by the agent clock (as if a reading stamped now had
     * arrived), so the last windows close on time when readings stop; and readings stamped further
     * behind the agent's event time (the newest timestamp seen, never past the agent clock) are
     * late. lengthMs + allowedLatenessMs when omitted, so a device reporting at least once a window
     * never sees a difference.
     */
    idleAfterMs: PositiveMs.optional(),
    /** A reading stamped further than this ahead of the agent's clock is rejected. */
    maxFutureMs: z.number().int().min(0).default(60_000),
    /** Bound on active series (device + metric). */
    maxSeries: z.number().int().min(1).default(10_000),
    onSeriesLimit: z.enum(['reject-new', 'evict-lru']).default('reject-new'),
    lateReadings: z.enum(['drop', 're-emit']).default('drop'),
    /** With `re-emit`, closed windows stay correctable this long behind the watermark. */
    lateHorizonMs: z.number().int().min(0).default(600_000),
    /** Bound on panes held per series (a pane is one slide interval): the open windows of a series. */
    maxPanesPerSeries: z.number().int().min(1).default(64),
    /**
     * Items kept per level of each pane's quantile sketch (even). Exact up to this many readings
     * per window; beyond, rank error ≤ (⌊log2(n/k)⌋ + 1) · n / k (see edge-agent core/sketch.ts).
     */
    sketchK: z.number().int().min(8).max(4_096).multipleOf(2).default(128),
  })
  .refine((w) => w.slideMs === undefined || w.lengthMs % w.slideMs === 0, {
    message: 'lengthMs must be a multiple of slideMs',
    path: ['lengthMs'],
  })
  .refine((w) => w.maxPanesPerSeries >= panesNeeded(w), {
    message: 'maxPanesPerSeries is too small to hold a window plus the lateness (and, with re-emit, the late horizon)',
    path: ['maxPanesPerSeries'],
  });

/** Panes a series holds in steady state: one window, the lateness, the correction horizon, and one being filled. */
export function panesNeeded(w: {
  lengthMs: number;
  slideMs?: number | undefined;
  allowedLatenessMs: number;
  lateReadings: 're-emit' | 'drop';
  lateHorizonMs: number;
}): number {
  const slide = w.slideMs ?? w.lengthMs;
  const horizon = w.lateReadings === 're-emit' ? w.lateHorizonMs : 0;
  return Math.ceil((w.lengthMs + w.allowedLatenessMs + horizon) / slide) + 1;
}

/** Load shedding at the door: messages over the rate are dropped before decoding (counted as `messages_shed`). */
export const IntakeConfig = z.object({
  /** Omit for no limit. */
  maxMessagesPerS: z.number().positive().optional(),
  /** Messages let through at once above the rate. */
  burstMessages: z.number().int().min(1).default(1_000),
});

export const BatchConfig = z.object({
  maxWindows: z.number().int().min(1).max(MAX_WINDOWS_PER_BATCH).default(500),
  maxDelayMs: PositiveMs.default(1_000),
});

/** Settings every uplink shares: how many batches are in flight and how resends back off. */
const UplinkCommon = {
  /** Batches sent and not yet acked at any time. */
  maxInFlight: z.number().int().min(1).default(8),
  /** A batch not acked this long after it was sent is sent again; each further wait doubles, up to backoff.maxMs (or this, if longer), plus up to 25 % jitter. */
  ackTimeoutMs: PositiveMs.default(15_000),
  /** Reconnects and retries: exponential backoff with full jitter. */
  backoff: BackoffConfig.prefault({}),
};

export const MqttUplinkConfig = z
  .object({
    type: z.literal('mqtt'),
    url: MqttUrl,
    /** The cloud's embedded broker with users wants the agent id as username (see the processor's broker.users). */
    ...MqttLogin,
    ...ClientTls,
    /** 5 only where the cloud's broker speaks MQTT 5 (an external Mosquitto; the embedded aedes broker does not). */
    protocolVersion: MqttProtocolVersion,
    ...UplinkCommon,
  })
  .superRefine(tlsNeedsSecureUrl);

/** POST each batch to `{url}/api/v1/batches`; the cloud answers 200 with the ack only after the write. */
export const HttpUplinkConfig = z
  .object({
    type: z.literal('http'),
    url: HttpUrl,
    /** Sent as `Authorization: Bearer <token>` when set. */
    token: z.string().min(1).optional(),
    ...ClientTls,
    requestTimeoutMs: PositiveMs.default(30_000),
    ...UplinkCommon,
  })
  .superRefine(tlsNeedsSecureUrl);

export const UplinkConfig = z.discriminatedUnion('type', [MqttUplinkConfig, HttpUplinkConfig]);
export type UplinkConfig = z.output<typeof UplinkConfig>;

export const DiskSpoolConfig = z
  .object({
    type: z.literal('disk'),
    /** Directory of the segment files; `<stateDir>/spool` when omitted. */
    dir: z.string().min(1).optional(),
    maxSpoolBytes: z
      .number()
      .int()
      .min(4096)
      .default(64 * 1024 * 1024),
    segmentBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    onFull: z.enum(['drop-oldest', 'reject-new']).default('drop-oldest'),
    /**
     * `per-batch`: fsync every batch before it is sent (one flash write per batch; nothing that
     * left the gateway can be lost). `interval`: fsync every fsyncIntervalMs (fewer writes for
     * SD-card wear; a power cut loses up to that much, and the next start skips seqs to stay safe).
     */
    fsync: z.enum(['per-batch', 'interval']).default('per-batch'),
    fsyncIntervalMs: PositiveMs.default(1_000),
  })
  .refine((s) => s.segmentBytes * 4 <= s.maxSpoolBytes, {
    message: 'segmentBytes must be at most a quarter of maxSpoolBytes',
    path: ['segmentBytes'],
  });

/** Batches in memory only: lost on restart; for gateways whose storage must not be written. */
export const MemorySpoolConfig = z.object({
  type: z.literal('memory'),
  maxBatches: z.number().int().min(1).default(1_000),
  onFull: z.enum(['drop-oldest', 'reject-new']).default('drop-oldest'),
});

export const SpoolConfig = z.discriminatedUnion('type', [DiskSpoolConfig, MemorySpoolConfig]);
export type SpoolConfig = z.output<typeof SpoolConfig>;

/**
 * The receiver write-ahead log: readings the agent accepted, appended (and group-committed) before
 * an MQTT QoS 1 source acknowledges them, so a crash loses no reading of a window still open.
 */
export const DiskWalConfig = z
  .object({
    type: z.literal('disk'),
    /** Directory of the log's segment files; `<stateDir>/wal` when omitted. */
    dir: z.string().min(1).optional(),
    /** Bound on the log's files. At the bound new readings are still accepted but not logged (counted as wal_readings_unprotected). */
    maxWalBytes: z
      .number()
      .int()
      .min(65_536)
      .default(64 * 1024 * 1024),
    segmentBytes: z
      .number()
      .int()
      .min(4096)
      .default(4 * 1024 * 1024),
    /** Group commit: what was appended is written and fsynced at most this often (one flash write each; acks wait for it). */
    commitIntervalMs: PositiveMs.default(10),
  })
  .refine((w) => w.segmentBytes * 4 <= w.maxWalBytes, {
    message: 'segmentBytes must be at most a quarter of maxWalBytes',
    path: ['segmentBytes'],
  });

/** No log: the readings of open windows die with the process (for gateways whose storage must not be written). */
export const NoWalConfig = z.object({ type: z.literal('none') });

export const WalConfig = z.discriminatedUnion('type', [DiskWalConfig, NoWalConfig]);
export type WalConfig = z.output<typeof WalConfig>;

export const AgentConfigSchema = z
  .object({
    agentId: AgentId,
    site: Site.optional(),
    sources: z.array(SourceConfig).min(1),
    /** Filter chain per metric name; `default` applies to metrics without their own chain. */
    filters: z.record(z.union([z.literal('default'), MetricName]), z.array(FilterConfig)).default({}),
    windows: WindowsConfig.prefault({}),
    intake: IntakeConfig.prefault({}),
    batch: BatchConfig.prefault({}),
    uplink: UplinkConfig,
    spool: SpoolConfig.default({
      type: 'disk',
      maxSpoolBytes: 64 * 1024 * 1024,
      segmentBytes: 1024 * 1024,
      onFull: 'drop-oldest',
      fsync: 'per-batch',
      fsyncIntervalMs: 1_000,
    }),
    /** When omitted: a disk log with the defaults if the spool is on disk, none with a memory spool (its batches die with the process too). */
    wal: WalConfig.optional(),
    /** Durable state (spool, seq); the CLI's --state-dir overrides it. */
    stateDir: z.string().min(1).default('.tributary/agent'),
    http: HttpServerConfig.optional(),
    /** How often counters of skipped input are logged (one line per reason per interval). */
    reportIntervalMs: PositiveMs.default(10_000),
    log: z.object({ level: LogLevel.default('info') }).prefault({}),
  })
  .refine((c) => c.wal?.type !== 'disk' || c.spool.type === 'disk', {
    message: 'a disk wal needs a disk spool: it records which spooled batches hold the windows it may forget',
    path: ['wal', 'type'],
  });

export type AgentConfig = z.output<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;
