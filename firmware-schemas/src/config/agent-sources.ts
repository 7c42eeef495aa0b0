/** The agent's sources (MQTT, its own Mosquitto, serial, file): where it reads its sensors. Split from agent.ts, which re-exports them. */
import { z } from 'zod';
import { DeviceId } from '../ids.js';
import { SERIAL_MAX_LINE_BYTES } from '../serial-line.js';
import { DEFAULT_MAX_TELEMETRY_BYTES } from '../telemetry.js';
import { topics } from '../topics.js';
import {
  BackoffConfig,
  MqttLogin,
  MqttProtocolVersion,
  MqttUrl,
  Port,
  PositiveMs,
  UnauthenticatedLimitsConfig,
} from './common.js';
import { TlsClientConfig, TlsListenerConfig, tlsNeedsSecureUrl } from './tls.js';

/** For an `mqtts://` or `https://` URL: a private CA to trust (instead of the system's), and a client certificate to present (its CN the agent id). */
export const ClientTls = { tls: TlsClientConfig.optional() };

export const MqttSourceConfig = z
  .object({
    type: z.literal('mqtt'),
    name: z.string().min(1).default('mqtt'),
    url: MqttUrl,
    ...MqttLogin,
    ...ClientTls,
    topics: z.array(z.string().min(1)).min(1).default([topics.telemetryPattern]),
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    /** `persistent`: the broker keeps the subscription and queues QoS 1 telemetry while the agent is away. */
    session: z.enum(['clean', 'persistent']).default('clean'),
    protocolVersion: MqttProtocolVersion,
    maxPayloadBytes: z
      .number()
      .int()
      .min(64)
      .max(1 << 20)
      .default(DEFAULT_MAX_TELEMETRY_BYTES),
  })
  .superRefine(tlsNeedsSecureUrl);

/**
 * An MQTT broker run inside the agent, for sensors that publish to the gateway directly. A packet
 * may be at most maxPayloadBytes + 64 KiB: a connection starting a larger one is closed at its
 * header, before the body is buffered.
 */
export const MqttBrokerSourceConfig = z.object({
  type: z.literal('mqtt-broker'),
  name: z.string().min(1).default('mqtt-broker'),
  host: z.string().min(1).default('0.0.0.0'),
  port: Port.default(1883),
  topics: z.array(z.string().min(1)).min(1).default([topics.telemetryPattern]),
  maxPayloadBytes: z
    .number()
    .int()
    .min(64)
    .max(1 << 20)
    .default(DEFAULT_MAX_TELEMETRY_BYTES),
  /** Connections at most; further ones are closed at once. */
  maxClients: z.number().int().min(1).default(1_000),
  /** When non-empty, every client must log in as one of these; anonymous ones are refused. */
  users: z
    .array(z.object({ username: z.string().min(1).max(256), password: z.string().min(8).max(256) }))
    .max(10_000)
    .refine((users) => new Set(users.map((u) => u.username)).size === users.length, 'usernames must be unique')
    .default([]),
  unauthenticated: UnauthenticatedLimitsConfig.prefault({}),
  /**
   * Bytes queued for one subscriber (a dashboard, a logger) that it has not taken yet; beyond,
   * messages are dropped for it (counted), so a subscriber that stops reading never slows the sensors.
   */
  maxSubscriberQueueBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 << 20)
    .default(64 * 1024),
  /**
   * MQTT over TLS (`mqtts`) with this certificate and key; with `clientCertificates`, a sensor's
   * certificate signed by `ca` admits it without a login. Omit for plain MQTT.
   */
  tls: TlsListenerConfig.optional(),
});

/** The login the agent reads its Mosquitto with (source type mosquitto); no sensor may take it. */
export const MOSQUITTO_AGENT_USERNAME = 'tributary-agent';

/** A name Mosquitto's password and ACL files can hold: no whitespace (it ends a field there) and no ':' (the password file's separator). */
const MosquittoName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\s:]+$/, 'must not contain whitespace or ":" (Mosquitto\'s password and ACL files)');

/**
 * A Mosquitto run by the agent, for sensors that publish to the gateway over MQTT 5, 3.1.1 or 3.1.
 * The agent writes its config (listener, logins, per-device topic rights, queue bounds), starts it,
 * restarts it when it exits, and reads `sensors/+/telemetry` from it with a persistent session.
 */
export const MosquittoSourceConfig = z.object({
  type: z.literal('mosquitto'),
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, "_", "." or "-" (it names a state directory)')
    .default('mosquitto'),
  host: z.string().min(1).default('0.0.0.0'),
  port: Port.refine((p) => p > 0, 'must be a port number (Mosquitto reads 0 as a Unix socket)').default(1883),
  /** The mosquitto executable: a path, or a name looked up on PATH and in /usr/sbin. */
  binary: z.string().min(1).default('mosquitto'),
  maxPayloadBytes: z
    .number()
    .int()
    .min(64)
    .max(1 << 20)
    .default(DEFAULT_MAX_TELEMETRY_BYTES),
  /** Connections at most (Mosquitto's max_connections). */
  maxClients: z.number().int().min(1).default(1_000),
  /**
   * When non-empty, every sensor logs in as one of these, and may publish only the telemetry of
   * its `devices` (`sensors/{device}/telemetry`; by default the device named as the username).
   * Empty: any client may publish any device's telemetry.
   */
  users: z
    .array(
      z.object({
        username: MosquittoName,
        password: z
          .string()
          .min(8)
          .max(256)
          .regex(/^[^\n\r]*$/, 'must be one line'),
        devices: z
          .array(
            DeviceId.refine(
              (d) => d.trim() === d,
              "must not start or end with a space (Mosquitto's ACL file trims them)",
            ),
          )
          .min(1)
          .max(10_000)
          .optional(),
      }),
    )
    .max(10_000)
    .refine((users) => new Set(users.map((u) => u.username)).size === users.length, 'usernames must be unique')
    .refine(
      (users) => users.every((u) => u.username !== MOSQUITTO_AGENT_USERNAME),
      `the username ${MOSQUITTO_AGENT_USERNAME} is the agent's own`,
    )
    .default([]),
  /** Messages Mosquitto keeps for the agent while it is behind or reconnecting; beyond, it drops them (mosquitto_messages_dropped). */
  maxQueuedMessages: z.number().int().min(100).max(10_000_000).default(100_000),
  maxQueuedBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(1 << 30)
    .default(32 * 1024 * 1024),
  /** Waits before starting Mosquitto again after it exited: exponential backoff with full jitter. */
  restart: BackoffConfig.prefault({ initialMs: 250, maxMs: 5_000 }),
  /** How long start() waits for Mosquitto to listen and the agent to subscribe. */
  startTimeoutMs: PositiveMs.default(10_000),
});

/** A serial port carrying the firmware line format (serial-line.ts), e.g. /dev/ttyUSB0. */
export const SerialSourceConfig = z.object({
  type: z.literal('serial'),
  /** Defaults to the port's path. */
  name: z.string().min(1).optional(),
  path: z.string().min(1),
  baudRate: z.number().int().min(50).max(4_000_000).default(115_200),
  dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
  /** Bound on one line (without CR LF); a longer line is a framing error and is skipped. */
  maxLineBytes: z.number().int().min(16).max(65_536).default(SERIAL_MAX_LINE_BYTES),
  /** Delay between attempts to reopen a port that vanished or failed to open. */
  reopen: BackoffConfig.prefault({ initialMs: 250, maxMs: 5_000 }),
});

/** Telemetry lines from a file or from standard input (`path: '-'`), for replay and tests. */
export const FileSourceConfig = z.object({
  type: z.literal('file'),
  name: z.string().min(1).default('file'),
  path: z.string().min(1),
  /** `json`: one telemetry JSON object per line; `serial`: the firmware serial line format. */
  format: z.enum(['json', 'serial']).default('json'),
  maxLineBytes: z
    .number()
    .int()
    .min(16)
    .max(1 << 20)
    .default(DEFAULT_MAX_TELEMETRY_BYTES),
});

export const SourceConfig = z.discriminatedUnion('type', [
  MqttSourceConfig,
  MqttBrokerSourceConfig,
  MosquittoSourceConfig,
  SerialSourceConfig,
  FileSourceConfig,
]);
export type SourceConfig = z.output<typeof SourceConfig>;
