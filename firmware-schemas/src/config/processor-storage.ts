/** Where the processor takes batches in (its embedded broker, or an external one) and writes them (InfluxDB). Split from processor.ts, which re-exports them. */
import { z } from 'zod';
import { AgentId, MetricName } from '../ids.js';
import { HttpUrl, MqttLogin, MqttUrl, Port, PositiveMs, UnauthenticatedLimitsConfig, uniqueBy } from './common.js';
import { TlsClientConfig, TlsListenerConfig, tlsNeedsSecureUrl } from './tls.js';

/**
 * A login on the embedded broker. `agent`: an edge agent, whose username is its agent id; it may
 * publish only its own batches and status and read only its own acks. `reader`: dashboards and
 * scorers; it may read alerts and agent status and publish nothing.
 */
export const BrokerUserConfig = z.discriminatedUnion('role', [
  z.object({ role: z.literal('agent'), username: AgentId, password: z.string().min(8).max(256) }),
  z.object({ role: z.literal('reader'), username: z.string().min(1).max(256), password: z.string().min(8).max(256) }),
]);

export const EmbeddedBrokerConfig = z.object({
  type: z.literal('embedded'),
  host: z.string().default('127.0.0.1'),
  port: Port.default(1883),
  /** Omit (or leave empty) for a broker open to every client on the network it listens on. */
  users: z
    .array(BrokerUserConfig)
    .max(100_000)
    .refine(
      uniqueBy((u: { username: string }) => u.username),
      'usernames must be unique',
    )
    .default([]),
  /** Connections at most; further ones are closed at once. */
  maxClients: z.number().int().min(2).default(10_000),
  unauthenticated: UnauthenticatedLimitsConfig.prefault({}),
  /**
   * MQTT over TLS (`mqtts://`) with this certificate and key; with `clientCertificates`, a
   * client's certificate signed by `ca` proves who it is (its CN: an agent id, or a reader of
   * `users`), so agents need no password. Omit for plain MQTT.
   */
  tls: TlsListenerConfig.optional(),
});

export const ExternalBrokerConfig = z
  .object({
    type: z.literal('external'),
    url: MqttUrl,
    ...MqttLogin,
    /** For an `mqtts://` URL: a private CA to trust, and a client certificate to present. */
    tls: TlsClientConfig.optional(),
  })
  .superRefine(tlsNeedsSecureUrl);

export const BrokerConfig = z.discriminatedUnion('type', [EmbeddedBrokerConfig, ExternalBrokerConfig]);
export type BrokerConfig = z.output<typeof BrokerConfig>;

/** An InfluxDB 1.x identifier Tributary creates or names (database, retention policy). */
const InfluxName = (what: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, `${what} must be letters, digits, "_" or "-"`);
/** An InfluxQL duration literal (`30d`, `12h`, `1w2d`) or `INF`. */
const InfluxDuration = z
  .string()
  .regex(/^(INF|(\d+(ns|u|µ|ms|s|m|h|d|w))+)$/, 'must be an InfluxQL duration such as 30d, 12h or INF');

/** A 1.x retention policy to write into, created on start when `createDatabase` is true and it is missing. */
export const InfluxRetentionPolicyConfig = z.object({
  name: InfluxName('retentionPolicy.name'),
  duration: InfluxDuration.default('INF'),
  /** Shard group duration; InfluxDB picks one from the duration when unset. */
  shardDuration: InfluxDuration.optional(),
  replication: z.number().int().min(1).default(1),
  /** Make it the database's default retention policy (so plain InfluxQL queries read it). */
  makeDefault: z.boolean().default(true),
});

export const InfluxConfig = z
  .object({
    /**
     * Which write API: `v1` is InfluxDB 1.x `/write` (database, retention policy, username and
     * password); `v2` is the `/api/v2/write` of InfluxDB 2.x, 3.x and Cloud (org, bucket, token).
     */
    api: z.enum(['v1', 'v2']).default('v1'),
    url: HttpUrl.default('http://127.0.0.1:8086'),
    database: InfluxName('database').default('tributary'),
    username: z.string().optional(),
    password: z.string().optional(),
    retentionPolicy: InfluxRetentionPolicyConfig.optional(),
    /** v1: create the database (and the retention policy) on start when missing; needs admin rights. */
    createDatabase: z.boolean().default(true),
    org: z.string().min(1).optional(),
    bucket: z.string().min(1).optional(),
    /** v2: an API token with write permission on the bucket (`Authorization: Token …`). */
    token: z.string().min(1).optional(),
    /** Per request: no answer within this long counts as a failed attempt (retried). */
    timeoutMs: PositiveMs.default(10_000),
    /** Lines per write request (several batches are coalesced), and how long a part-filled request waits while others are in flight. */
    batch: z
      .object({
        maxLines: z.number().int().min(1).max(1_000_000).default(5_000),
        flushIntervalMs: PositiveMs.default(100),
      })
      .prefault({}),
    /** Write requests in flight at once. */
    maxInFlightRequests: z.number().int().min(1).max(64).default(4),
    /**
     * The write backlog: lines accepted and not yet durable. When it is full the processor stops
     * taking batches (MQTT stops reading, HTTP answers 503) and acks nothing new.
     */
    maxBufferedLines: z.number().int().min(1).default(100_000),
    /**
     * The same backlog in bytes of line protocol (the writer keeps a batch's lines as UTF-8 until
     * they are durable): whichever bound is reached first stops the intake. About 250 bytes a
     * window line, so it binds before maxBufferedLines only for long names.
     */
    maxBufferedBytes: z
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024),
    /** Compress request bodies: `auto` when a body is at least `gzipMinBytes` and InfluxDB is not on this host. */
    gzip: z.enum(['auto', 'always', 'never']).default('auto'),
    gzipMinBytes: z
      .number()
      .int()
      .min(0)
      .default(16 * 1024),
    /** Backoff with full jitter for 429, 5xx and network failures; Retry-After is honoured when longer. */
    retry: z.object({ initialMs: PositiveMs.default(250), maxMs: PositiveMs.default(10_000) }).prefault({}),
    /** 401/403 and a missing database or bucket: tried again this often (so a fixed credential recovers), loudly. */
    blockedRetryMs: PositiveMs.default(30_000),
    /** Points InfluxDB refused (type conflicts, beyond retention), with its reason, as JSON lines. */
    deadLetter: z
      .object({
        /** Default: `influx-dead-letter.jsonl` in stateDir. */
        path: z.string().min(1).optional(),
        /** At this size further refused points are counted and dropped, not written. */
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .default(64 * 1024 * 1024),
      })
      .prefault({}),
    /** Metric → unit, written as the `unit` tag of that metric's points (e.g. temperature: °C). */
    units: z.record(MetricName, z.string().min(1).max(32)).default({}),
  })
  .superRefine((c, ctx) => {
    if (c.api !== 'v2') return;
    for (const key of ['org', 'bucket', 'token'] as const) {
      if (c[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} is required when api is v2` });
    }
  });
export type InfluxConfig = z.output<typeof InfluxConfig>;
