import { z } from 'zod';

export const MqttUrl = z.string().regex(/^(mqtt|mqtts|tcp|ws|wss):\/\/[^\s]+$/, 'must be an MQTT URL such as mqtt://127.0.0.1:1883');
/**
 * MQTT login, for brokers that require one (credentials in the URL work too, but end up in logs).
 * Use an mqtts:// URL so the password does not cross the network in clear; a private CA is
 * trusted through NODE_EXTRA_CA_CERTS.
 */
export const MqttLogin = {
  username: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(256).optional(),
};
export const HttpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL');
export const Port = z.number().int().min(0).max(65535);
export const PositiveMs = z.number().int().min(1);
export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

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
