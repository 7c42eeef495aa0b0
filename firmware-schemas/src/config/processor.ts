import { z } from 'zod';
import { DEFAULT_MAX_BATCH_BYTES } from '../batch.js';
import { AgentId, MetricName } from '../ids.js';
import { ClusterConfig } from './cluster.js';
import { HttpUrl, LogLevel, Port, PositiveMs, uniqueBy } from './common.js';
import { TlsListenerConfig } from './tls.js';
import { BrokerConfig, InfluxConfig } from './processor-storage.js';

export * from './processor-storage.js';

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

/** A device's metrics judged together: a machine (vibration, current, pressure, flow, …). */
export const DeviceDetectorChoice = z.object({
  /** A device detector of the cloud processor's registry (`machine`), or `none` to judge series one by one only. */
  detector: z.string().min(1).default('machine'),
  /** Its settings, checked by its own schema at start. */
  settings: z.record(z.string(), z.unknown()).default({}),
});

export const DetectionConfig = DetectorChoice.extend({
  devices: DeviceDetectorChoice.prefault({}),
  /** Per metric name: a different detector, settings or sensitivity (unset keys: the choice above). */
  metrics: z.record(MetricName, DetectorOverride).default({}),
  /**
   * Series with detector state kept in memory; past it the least recently seen is dropped. The
   * default ensemble holds about 13 kB per young series and up to 25 kB with every history full
   * (`npm run bench:cloud -- --state-windows 4400`); plan about twice that resident (V8's heap
   * headroom), so the default of 20,000 needs about 1 GB: raise it with the memory to match.
   */
  maxSeries: z.number().int().min(1).default(20_000),
  /**
   * First emissions remembered (the latest half to all of this many, about 170 bytes each) so that
   * a correction of one (`rev` > 0, re-emitted by an agent with `lateReadings: re-emit`) is stored
   * with the values detection judged, which replay then judges too. A correction of a window
   * forgotten (past this bound, or from before a restart) is stored without them and counted
   * (`corrections_unjudged`). 0 remembers none.
   */
  maxJudgedWindows: z.number().int().min(0).default(100_000),
  /**
   * How often detector state is checkpointed to stateDir, so baselines survive a crash; it is also
   * written on every stop (a redeploy). Streamed in slices, but it costs CPU with many series.
   */
  checkpointIntervalMs: PositiveMs.default(600_000),
  /**
   * Worker threads detection runs on, its devices spread over them by a hash of the device id,
   * each with every series of it (the device detector judges them together; in cluster mode,
   * every owned partition's devices over the same threads). Unset: the cores this
   * process may use (os.availableParallelism()); 0: in the event loop's own thread, as before
   * workers. The alerts are the same whatever the number (below maxSeries and alerts.maxOpen,
   * which are split evenly over the workers).
   */
  workers: z.number().int().min(0).max(256).optional(),
  /**
   * Each detection worker's heap limit. `by-max-series`: 64 kB a series of its share of
   * maxSeries, at least 1024 MB, under which V8 collects garbage before the heap grows past 1.6
   * times what it holds (at 10,000 series about 100 MB less resident, for 2-3 µs more CPU a window
   * at full speed); V8's own from 2 GB on, and in a cluster. `v8`: V8's own limit, from the
   * machine's memory, under which the heap grows to up to 4 times what it holds before a full
   * collection. A worker past its limit dies and is started again, its series afresh (counted).
   */
  workerHeapLimit: z.enum(['by-max-series', 'v8']).default('by-max-series'),
  /** Batches handed to the detection workers and not answered yet; beyond it the intake waits (backpressure). */
  maxQueuedBatches: z.number().int().min(1).max(10_000).default(16),
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

/** One line per transition in the processor's log (warn when an alert opens or worsens, info when it resolves). */
export const LogAlertSinkConfig = z.object({ type: z.literal('log') });
export const WebhookAlertSinkConfig = WebhookConfig.extend({ type: z.literal('webhook') });

/** Where alert transitions go, by `type` (cloud-processor alerts/sinks/registry.ts builds each). */
export const AlertSinkConfig = z.discriminatedUnion('type', [LogAlertSinkConfig, WebhookAlertSinkConfig]);
export type AlertSinkConfig = z.output<typeof AlertSinkConfig>;

export const AlertsConfig = z.object({
  /** Consecutive normal windows before an open alert resolves (hysteresis). */
  resolveAfterWindows: z.number().int().min(1).default(3),
  /**
   * An alert stays open at least this long (event time), so a flicker is one alert. 0 by default:
   * the detectors hold an alert while its fault persists and do not report one event twice (the
   * ensemble's refractory period), and a fault can be shorter than any fixed hold (a valve closing
   * for five minutes).
   */
  minOpenMs: z.number().int().min(0).default(0),
  /** After a resolve, the same series and detector does not re-open for this long (event time); 0 by default, as minOpenMs. */
  cooldownMs: z.number().int().min(0).default(0),
  /** Bound on open alerts kept in memory. */
  maxOpen: z.number().int().min(1).default(10_000),
  /** Recent transitions kept for GET /api/alerts. */
  recent: z.number().int().min(0).max(100_000).default(1_000),
  /**
   * The alert sinks; the log by default. Besides these, transitions go to MQTT (the alert topics,
   * or their NATS subjects in a cluster) and to InfluxDB's `anomaly` measurement.
   */
  sinks: z
    .array(AlertSinkConfig)
    .max(100)
    .default([{ type: 'log' }]),
  /** Webhooks: each is also a sink of type `webhook` (the form from before `sinks`). */
  webhooks: z.array(WebhookConfig).default([]),
});

/** The bounded backlog between the transports and the writer (see Intake). */
export const IngestConfig = z.object({
  maxBacklogBatches: z.number().int().min(1).default(64),
  maxBacklogBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  /** MQTT client id of the processor's persistent session on the broker. */
  mqttClientId: z.string().min(1).max(128).default('tributary-cloud'),
  /** Start fails, naming the broker and its error, when batches cannot be subscribed to within this long. */
  startTimeoutMs: PositiveMs.default(30_000),
  /**
   * MQTT backpressure lasts this long at most: while the backlog is full the processor stops
   * reading, so the broker holds the batches; once it has been full this long (InfluxDB down), it
   * reads on and leaves what does not fit unacked (`batches_shed`), as HTTP answers 503, so the
   * broker's queue for the processor cannot grow without bound. Agents keep every batch until it
   * is acked and send it again.
   */
  maxStallMs: PositiveMs.default(10_000),
});

/** An agent's own HTTP credential: a batch posted with this token is proven to be this agent's. */
export const HttpAgentConfig = z.object({ agentId: AgentId, token: z.string().min(16).max(256) });

/** The HTTP server: batch uplink, /metrics, /health, the API. Omit to disable. */
export const CloudHttpConfig = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: Port.default(8080),
    /**
     * A token per agent, as `broker.users` are MQTT logins per agent: a batch posted with an
     * agent's token must be that agent's (403 otherwise), so its agent is proven, not claimed.
     */
    agents: z
      .array(HttpAgentConfig)
      .max(100_000)
      .refine(
        uniqueBy((a: { agentId: string }) => a.agentId),
        'agentIds must be unique',
      )
      .refine(
        uniqueBy((a: { token: string }) => a.token),
        'tokens must be unique',
      )
      .default([]),
    /**
     * A shared bearer token: whoever holds it may post batches as any agent that has no token in
     * `agents` (the agent is claimed, not proven), and read /metrics and /api/*.
     */
    token: z.string().min(1).optional(),
    /** Bearer token for GET /metrics and /api/* (not for uploads); /health is always open. */
    readToken: z.string().min(16).max(256).optional(),
    /**
     * Batch uploads read at once; more are answered 503 + Retry-After before their body is read, so
     * bodies in memory stay under this × maxBatchBytes however many agents post (or stall).
     */
    maxConcurrentUploads: z.number().int().min(1).max(10_000).default(32),
    /** Batch uploads of one agent read at once; more get 429 + Retry-After, so one agent's slow uploads cannot take every slot. */
    maxUploadsPerAgent: z.number().int().min(1).max(10_000).default(4),
    /**
     * The live dashboard at /dashboard/ (its data under /api/dashboard/, behind the read token like
     * the rest of /api/*). `auto`: served when `host` is a loopback address, or when a read token
     * (`readToken`, or the shared `token`) guards it; off on a network address without one.
     * `on`: served whatever the address (open to whoever reaches it when no token is set). `off`: never.
     */
    dashboard: z.enum(['auto', 'on', 'off']).default('auto'),
    /** Dashboards open at once (each holds one server-sent event stream); more are answered 503. */
    maxEventStreams: z.number().int().min(1).max(10_000).default(32),
    /** Open connections at most; further ones are closed at once. */
    maxConnections: z.number().int().min(1).default(1_024),
    /** A request (headers and body) must arrive within this long (checked every second), so a stalled upload cannot hold its slot. */
    requestTimeoutMs: PositiveMs.default(60_000),
    /**
     * HTTPS with this certificate and key; with `clientCertificates`, a client's certificate signed
     * by `ca` proves which agent posts (its CN), as an agent's own token does. Omit for plain HTTP.
     */
    tls: TlsListenerConfig.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.agents.length > 0 && c.token === undefined && c.readToken === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['readToken'],
        message:
          'required when http.agents is set without http.token: it guards GET /metrics and /api/* (/health stays open)',
      });
    }
    if (
      c.tls !== undefined &&
      c.tls.clientCertificates !== 'none' &&
      c.token === undefined &&
      c.readToken === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['readToken'],
        message:
          'required with http.tls.clientCertificates: agents’ certificates do not read, so it guards GET /metrics and /api/* (/health stays open)',
      });
    }
    const tokens = [...c.agents.map((a) => a.token), ...(c.token === undefined ? [] : [c.token])];
    if (c.token !== undefined && c.agents.some((a) => a.token === c.token))
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'must differ from every agent’s token' });
    if (c.readToken !== undefined && tokens.includes(c.readToken))
      ctx.addIssue({ code: 'custom', path: ['readToken'], message: 'must differ from the upload tokens' });
  });

export const ProcessorConfigSchema = z.object({
  broker: BrokerConfig.prefault({ type: 'embedded' }),
  ingest: IngestConfig.prefault({}),
  /** Durable state: dedupe high-water marks (and detector checkpoints). */
  stateDir: z.string().min(1).default('.tributary/cloud'),
  influx: InfluxConfig.prefault({}),
  maxBatchBytes: z.number().int().min(1024).default(DEFAULT_MAX_BATCH_BYTES),
  dedupe: z
    .object({
      /** Seqs below each high-water mark remembered one by one (a bitmap of this many bits per stream of an agent's seqs). */
      windowSize: z
        .number()
        .int()
        .min(64)
        .max(1 << 20)
        .default(1024),
      /**
       * A batch more than this past its agent's highest seq (or a window below it) is tracked apart,
       * counted (`batches_tracked_apart`) and logged as an error; at most (and by default) half of
       * windowSize, so no one batch can push an agent's recent seqs out of its window.
       */
      maxSeqGap: z.number().int().min(1).optional(),
      maxAgents: z.number().int().min(1).default(100_000),
      /** How often the dedupe state is written to stateDir (it is also written on stop). */
      persistIntervalMs: PositiveMs.default(1_000),
    })
    .refine((d) => d.maxSeqGap === undefined || d.maxSeqGap <= d.windowSize / 2, {
      path: ['maxSeqGap'],
      message: 'must be at most half of dedupe.windowSize',
    })
    .prefault({}),
  detection: DetectionConfig.prefault({}),
  alerts: AlertsConfig.prefault({}),
  http: CloudHttpConfig.optional(),
  /** Scale-out on NATS JetStream (several processors share the fleet). Omit for one processor with its embedded broker. */
  cluster: ClusterConfig.optional(),
  reportIntervalMs: PositiveMs.default(10_000),
  log: z.object({ level: LogLevel.default('info') }).prefault({}),
});

export type ProcessorConfig = z.output<typeof ProcessorConfigSchema>;
export type ProcessorConfigInput = z.input<typeof ProcessorConfigSchema>;
