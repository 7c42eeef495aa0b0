/** One reading as the pre-filters see it. */
export interface Reading {
  readonly device: string;
  readonly metric: string;
  /** Event time in ms: the device's timestamp, or arrival time for devices without a clock. */
  readonly ts: number;
  readonly value: number;
  readonly seq: number | undefined;
}

/**
 * A pre-filter decides whether a reading goes on to the windows. Filters that keep per-series
 * state must bound it and say how. `name` labels the counter of what the filter removes.
 */
export interface ReadingFilter {
  readonly name: string;
  /** Called once per reading, in arrival order; true keeps the reading. */
  keep(reading: Reading): boolean;
}
