import { z } from 'zod';
import { AgentId, DeviceId, EpochMs, MetricName, Seq, Site } from './ids.js';
import { decodeJson } from './json.js';
import { fail, parseWith, showPath, type Result } from './result.js';
import { fastWindow } from './window-fast.js';

export const BATCH_FORMAT_VERSION = 1 as const;
export const MAX_WINDOWS_PER_BATCH = 10_000;
/** Default bound on one batch payload at the cloud. */
export const DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024;

const Finite = z.number();

/** Quantiles estimated by the agent's mergeable sketch for one window. */
export const QuantilesSchema = z.object({ p50: Finite, p90: Finite, p99: Finite });

/**
 * One window's aggregate for one series (device + metric). The variance terms are Welford's
 * running mean and `m2` (sum of squared deviations from the mean), so windows can be merged
 * exactly with Chan's formula. `rev` is 0 for the first emission of a window and counts up for
 * corrections re-emitted after late readings; a correction carries the whole window, not a delta.
 */
export const ReadingsWindowSchema = z
  .object({
    device: DeviceId,
    metric: MetricName,
    start: EpochMs,
    end: EpochMs,
    count: z.number().int().min(1, {
      error: 'count must be at least 1 (0 only for a window of out-of-range readings only, with outOfRange)',
    }),
    sum: Finite,
    min: Finite,
    max: Finite,
    mean: Finite,
    m2: Finite.min(0),
    first: Finite,
    last: Finite,
    firstTs: EpochMs,
    lastTs: EpochMs,
    rev: z.number().int().min(0).default(0),
    /** p50/p90/p99 from the agent's bounded quantile sketch (rank error documented in edge-agent core/sketch.ts). */
    quantiles: QuantilesSchema.optional(),
    /**
     * Readings of this series within this window's span that the agent's range filter removed
     * (sent only when > 0), so the cloud can alert on out-of-range glitches the agent filtered out.
     */
    outOfRange: z.number().int().min(0).optional(),
  })
  .refine((w) => w.end > w.start, { message: 'window end must be after its start', path: ['end'] })
  .refine((w) => w.min <= w.max, { message: 'min must not exceed max', path: ['min'] });

/**
 * A window whose every reading the agent's range filter removed: `count` 0, how many in
 * `outOfRange` (at least 1), and no value statistics, since there is no reading to take them of.
 * It tells the cloud the sensor spoke and every word was out of range (a glitching sensor, not a
 * silent one). Agents before it sent nothing for such a window (counted as
 * `windows_out_of_range_only`), so their batches hold only `ReadingsWindowSchema` windows.
 */
export const OutOfRangeWindowSchema = z
  .object({
    device: DeviceId,
    metric: MetricName,
    start: EpochMs,
    end: EpochMs,
    count: z.literal(0),
    rev: z.number().int().min(0).default(0),
    outOfRange: z.number().int().min(1),
  })
  .refine((w) => w.end > w.start, { message: 'window end must be after its start', path: ['end'] });

/** The shape a window claims by its count, for worded errors. */
const shapeOf = (value: unknown) =>
  typeof value === 'object' && value !== null && (value as { count?: unknown }).count === 0
    ? OutOfRangeWindowSchema
    : ReadingsWindowSchema;

/**
 * A window result: its readings' aggregate, or (count 0) only how many readings were out of range.
 * When a window is neither, the error is that of the shape its count claims (a union's own error
 * would only say "invalid input"), so a window with a bad `m2` is told so.
 */
export const WindowResultSchema = z.union([ReadingsWindowSchema, OutOfRangeWindowSchema], {
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    const r = shapeOf(issue.input).safeParse(issue.input);
    return r.success ? undefined : r.error.issues.map((i) => `${showPath(i.path)}: ${i.message}`).join('; ');
  },
});

export type ReadingsWindow = z.output<typeof ReadingsWindowSchema>;
export type OutOfRangeWindow = z.output<typeof OutOfRangeWindowSchema>;
export type WindowResult = ReadingsWindow | OutOfRangeWindow;

/** Whether a window holds readings (value statistics); false for an out-of-range-only window (count 0). */
export function hasReadings(w: WindowResult): w is ReadingsWindow {
  return w.count > 0;
}

/** Agent counters ride along with every batch so the cloud can report them. */
export const CountersSchema = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), z.number().int().min(0));

/** The edge→cloud micro-batch, published on `tributary/v1/agents/{agent}/batches` at QoS 1. */
export const BatchEnvelopeSchema = z.object({
  v: z.literal(BATCH_FORMAT_VERSION),
  agent: AgentId,
  site: Site.optional(),
  /**
   * When this agent's durable state (its spool) was created. `seq` counts within an epoch: a
   * gateway whose state was wiped starts again at seq 0 with a new epoch, and the cloud must not
   * take its batches for duplicates of the old ones.
   */
  epoch: z.number().int().min(0).default(0),
  seq: Seq,
  sentAt: EpochMs,
  /**
   * Every window of this agent ending at or before this time is in this batch or an earlier one.
   * The agent keeps event time per device, so this is the lowest boundary over its devices (a
   * device that stays silent is moved on after an idle interval, one stamped far behind has its
   * readings judged late). The cloud judges a series silent (missing data) only up to here, so a
   * close split over two batches, or a device with a slower clock, does not look like a dropout;
   * a batch without it lets the cloud judge no silence.
   */
  watermark: EpochMs.optional(),
  windows: z.array(WindowResultSchema).max(MAX_WINDOWS_PER_BATCH),
  counters: CountersSchema,
});

export type BatchEnvelope = z.output<typeof BatchEnvelopeSchema>;
export type BatchEnvelopeInput = z.input<typeof BatchEnvelopeSchema>;

export function validateBatch(value: unknown): Result<BatchEnvelope> {
  return parseWith(BatchEnvelopeSchema, value);
}

export function decodeBatch(payload: string | Uint8Array, maxBytes = DEFAULT_MAX_BATCH_BYTES): Result<BatchEnvelope> {
  const json = decodeJson(payload, maxBytes, 'batch');
  return json.ok ? validateBatch(json.value) : json;
}

/** A batch as the cloud takes it: its valid windows, and the ones it had to skip (with reasons). */
export interface TolerantBatch {
  readonly batch: BatchEnvelope;
  readonly skipped: ReadonlyArray<{ readonly index: number; readonly reason: string }>;
}

const EnvelopeShell = BatchEnvelopeSchema.extend({ windows: z.array(z.unknown()).max(MAX_WINDOWS_PER_BATCH) });

/**
 * Decodes a batch window by window: one bad window (a value no JSON number can hold, say) is
 * skipped and reported, and the other windows of the batch — often hundreds of other devices' —
 * are kept. A broken envelope (agent, seq, counters) fails the whole batch. A format version this
 * build does not know fails with code `version`: the sender is newer, not wrong, and must keep it.
 */
export function decodeBatchTolerant(
  payload: string | Uint8Array,
  maxBytes = DEFAULT_MAX_BATCH_BYTES,
): Result<TolerantBatch> {
  const json = decodeJson(payload, maxBytes, 'batch');
  if (!json.ok) return json;
  const value = json.value as { v?: unknown } | null;
  if (typeof value === 'object' && value !== null && typeof value.v === 'number' && value.v !== BATCH_FORMAT_VERSION) {
    return fail('version', `batch format version ${value.v}; this build reads version ${BATCH_FORMAT_VERSION}`);
  }
  const shell = parseWith(EnvelopeShell, value);
  if (!shell.ok) return shell;
  const windows: WindowResult[] = [];
  const skipped: Array<{ index: number; reason: string }> = [];
  shell.value.windows.forEach((w, index) => {
    // Plainly valid windows take the hand-written checks (window-fast.ts); the schema decides the rest.
    const fast = fastWindow(w);
    if (fast !== undefined) {
      windows.push(fast);
      return;
    }
    const r = parseWith(WindowResultSchema, w);
    if (r.ok) windows.push(r.value);
    else skipped.push({ index, reason: r.error.message });
  });
  return { ok: true, value: { batch: { ...shell.value, windows }, skipped } };
}

export function encodeBatch(batch: BatchEnvelopeInput): string {
  return JSON.stringify(batch);
}
