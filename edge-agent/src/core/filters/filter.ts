import type { FilterConfig } from '@tributary/firmware-schemas';

/**
 * A pre-filter decides whether a reading goes on to the windows. It is called once per reading,
 * in arrival order, with the reading's fields as arguments (no object per reading). Filters that
 * keep per-series state bound it by their `maxSeries` (see series-state.ts).
 */
export interface ReadingFilter {
  readonly kind: FilterConfig['type'];
  /**
   * True keeps the reading. `ts` is the event time (the device's timestamp, or arrival time for a
   * device without a clock, then `stamped` is false); `seq` is the message's sequence number, if any.
   */
  keep(device: string, metric: string, ts: number, value: number, seq: number | undefined, stamped: boolean): boolean;
}

/** What filters report besides their verdicts. */
export interface FilterEvents {
  /** A stateful filter forgot the state of its least recently updated series at its `maxSeries`. */
  stateEvicted(): void;
}
