import { z } from 'zod';

/**
 * Characters a device id may not hold. Control characters (C0, DEL, C1) would break a log line or
 * inject a point into InfluxDB line protocol (a newline ends a point); `/ + #` are MQTT topic
 * separators and wildcards (MQTT 3.1.1 §4.7); a backslash escapes the next byte in line protocol,
 * so a trailing one would swallow the separator that follows the tag value.
 * Commas, spaces and `=` are allowed: the InfluxDB encoder escapes them.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_DEVICE_ID = /[\u0000-\u001f\u007f-\u009f/+#\\]/;

export const DEVICE_ID_MAX_LENGTH = 64;

/**
 * A UTF-16 surrogate that is not half of a pair. Such a string is not well-formed Unicode: it has
 * no UTF-8 form, so on its way into InfluxDB (or any UTF-8 text) each lone surrogate becomes
 * U+FFFD and ids that differ only there (`sur\ud800`, `sur\udbff`) would collide. With the `u`
 * flag a pair is one code point (not in category Cs), so only a lone half matches.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why a string is not well-formed Unicode (it holds a lone surrogate), or undefined when it is. */
export function loneSurrogateProblem(what: string, s: string): string | undefined {
  const bad = LONE_SURROGATE.exec(s);
  if (!bad) return undefined;
  const code = bad[0].charCodeAt(0).toString(16).toUpperCase();
  return `${what} contains a lone UTF-16 surrogate U+${code} at index ${bad.index} (ids must be well-formed Unicode)`;
}

/** Why a device id is not acceptable, in words, or undefined when it is fine. Shared by the fast paths. */
export function deviceIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `device id must be a string, got ${typeof id}`;
  if (id.length === 0) return 'device id is empty';
  if (id.length > DEVICE_ID_MAX_LENGTH)
    return `device id is ${id.length} characters long, at most ${DEVICE_ID_MAX_LENGTH} are allowed`;
  const bad = FORBIDDEN_IN_DEVICE_ID.exec(id);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, '0');
    return `device id contains a forbidden character U+${code.toUpperCase()} (control characters, '/', '+', '#' and '\\' are not allowed)`;
  }
  return loneSurrogateProblem('device id', id);
}

export const DeviceId = z
  .string()
  .superRefine((id, ctx) => {
    const problem = deviceIdProblem(id);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: id });
  })
  // The same rule for JSON Schema readers (the refinement above is what the decoders run).
  .meta({
    description:
      "Device id: 1-64 characters (UTF-16 code units) of well-formed Unicode (no lone surrogate); no control characters, '/', '+', '#' or '\\'",
    minLength: 1,
    maxLength: DEVICE_ID_MAX_LENGTH,
    pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f/+#\\\\]+$',
  });

/**
 * Metric names become InfluxDB measurement names, so they are kept to a plain identifier, and may
 * not be one of the measurements the cloud writes itself (`anomaly`, `agent_stats`).
 */
export const RESERVED_MEASUREMENTS = ['anomaly', 'agent_stats'] as const;
/** Longest metric name; the pattern below says the same ({0,63} after the first letter). */
export const METRIC_NAME_MAX_LENGTH = 64;
export const METRIC_NAME_PATTERN = /^(?!(?:anomaly|agent_stats)$)[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const METRIC_NAME_MESSAGE =
  'metric name must be a letter followed by up to 63 letters, digits or underscores, and not "anomaly" or "agent_stats"';
export const MetricName = z.string().regex(METRIC_NAME_PATTERN, METRIC_NAME_MESSAGE);

/** Agent ids appear in MQTT topics and as a tag. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const AgentId = z
  .string()
  .regex(AGENT_ID_PATTERN, 'agent id must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit');

/**
 * A site name: a tag value on every point of the agent's batches. Well-formed Unicode for the same
 * reason as device ids; no control characters (a newline would end the point) and no backslash.
 */
export const Site = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\u0000-\u001f\u007f\\]*$/, 'site must not contain control characters or "\\"')
  .superRefine((site, ctx) => {
    const problem = loneSurrogateProblem('site', site);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: site });
  });

/** Milliseconds since the Unix epoch, within years 2000-2200 so a seconds-vs-ms mix-up is caught. */
export const MIN_TIMESTAMP_MS = 946_684_800_000;
export const MAX_TIMESTAMP_MS = 7_258_118_400_000;
export const EpochMs = z
  .number()
  .int()
  .min(MIN_TIMESTAMP_MS, 'timestamp must be milliseconds since the epoch (after 2000-01-01)')
  .max(MAX_TIMESTAMP_MS, 'timestamp must be milliseconds since the epoch (before 2200-01-01)');

export const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Readings one telemetry message or serial line may carry. */
export const MAX_VALUES_PER_MESSAGE = 64;
/**
 * Largest reading magnitude accepted. Far beyond any sensor, and small enough that no window's
 * sum or sum of squared deviations can overflow to Infinity (which JSON would turn into null,
 * making the whole batch unreadable).
 */
export const MAX_READING_MAGNITUDE = 1e100;
