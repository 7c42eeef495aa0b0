import { z } from 'zod';

export const MqttUrl = z
  .string()
  .regex(/^(mqtt|mqtts|tcp|ws|wss):\/\/[^\s]+$/, 'must be an MQTT URL such as mqtt://127.0.0.1:1883');
/**
 * MQTT login, for brokers that require one (credentials in the URL work too, but end up in logs).
 * Use an mqtts:// URL so the password does not cross the network in clear; a private CA is
 * trusted through NODE_EXTRA_CA_CERTS.
 */
export const MqttLogin = {
  username: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(256).optional(),
};
/** The MQTT version a client speaks: 4 is MQTT 3.1.1 (every broker), 5 is MQTT 5.0 (Mosquitto 2 and most others; not aedes). */
export const MqttProtocolVersion = z.union([z.literal(4), z.literal(5)]).default(4);
export const HttpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL');
export const Port = z.number().int().min(0).max(65535);
export const PositiveMs = z.number().int().min(1);
export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * What an embedded MQTT broker allows a connection before its client has logged in (or, without
 * users, before its CONNECT has been read): before that anyone can open one, so each may hold only
 * a small CONNECT, all of them together at most `maxBufferedBytes`, each for `connectTimeoutMs`.
 * Beyond any of these the connection is closed, counted and logged.
 */
export const UnauthenticatedLimitsConfig = z.object({
  /** The largest CONNECT read before login (client id, will, username, password): 8 KiB holds any real one. */
  maxConnectBytes: z
    .number()
    .int()
    .min(256)
    .max(1 << 20)
    .default(8 * 1024),
  /** Bytes read and not yet processed, across every connection not logged in yet. */
  maxBufferedBytes: z
    .number()
    .int()
    .min(1024)
    .max(1 << 30)
    .default(4 * 1024 * 1024),
  /** From the connection's opening to the end of its login. */
  connectTimeoutMs: PositiveMs.default(10_000),
});
export type UnauthenticatedLimits = z.output<typeof UnauthenticatedLimitsConfig>;

/** Exponential backoff with full jitter: delay = random(0, min(maxMs, initialMs * 2^attempt)). */
export const BackoffConfig = z.object({
  initialMs: PositiveMs.default(500),
  maxMs: PositiveMs.default(30_000),
});

/** `/metrics` (Prometheus text) and `/health`; port 0 picks a free port. Omit to disable. */
export const HttpServerConfig = z.object({
  host: z.string().default('127.0.0.1'),
  port: Port.default(0),
});

/** For `.refine` of a list: true when no two items have the same `key`. */
export const uniqueBy =
  <T>(key: (item: T) => string) =>
  (items: readonly T[]): boolean =>
    new Set(items.map(key)).size === items.length;
