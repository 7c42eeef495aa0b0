import { hasReadings, type ReadingsWindow, type WindowResult } from '@tributary/firmware-schemas';

/**
 * One window as detection takes it (the cloud processor's `SeriesInput`): the same values whether
 * it comes live from a batch (`windowInput`) or back from InfluxDB (`storedInput` in
 * stored-rows.ts), so replay judges exactly what the live path judged. A window whose every
 * reading was out of range has `count` 0, its `outOfRange`, and NaN for the value statistics
 * (there is no value: detection judges it by its `outOfRange` alone).
 */
export interface WindowInput {
  readonly device: string;
  readonly metric: string;
  /** Event time: the window's end. */
  readonly ts: number;
  /** Window length (end − start); for raw rows, the series' usual spacing or 0. */
  readonly lengthMs: number;
  /** The window mean. */
  readonly value: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation inside the window. */
  readonly stddev: number;
  readonly count: number;
  readonly first?: number;
  readonly last?: number;
  /** Readings the agent's range filter removed in this window. */
  readonly outOfRange?: number;
}

/** Sample standard deviation of a window, from Welford's m2. */
export function windowStddev(w: ReadingsWindow): number {
  return w.count > 1 ? Math.sqrt(w.m2 / (w.count - 1)) : 0;
}

/** A window result of a batch as detection judges it. */
export function windowInput(w: WindowResult): WindowInput {
  if (!hasReadings(w)) {
    const none = Number.NaN;
    const { device, metric, end, start, outOfRange } = w;
    return {
      device,
      metric,
      ts: end,
      lengthMs: end - start,
      value: none,
      min: none,
      max: none,
      stddev: none,
      count: 0,
      outOfRange,
    };
  }
  return {
    device: w.device,
    metric: w.metric,
    ts: w.end,
    lengthMs: w.end - w.start,
    value: w.mean,
    min: w.min,
    max: w.max,
    stddev: windowStddev(w),
    count: w.count,
    first: w.first,
    last: w.last,
    outOfRange: w.outOfRange ?? 0,
  };
}
