/** Longest Retry-After honoured, so a confused proxy cannot park a sender for a day. */
export const MAX_RETRY_AFTER_MS = 600_000;

/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as milliseconds from `nowMs`,
 * capped at MAX_RETRY_AFTER_MS; undefined when absent or unreadable.
 */
export function retryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}
