/** Where every reading offered to the agent went, from its counters (pure). */
export interface ReadingAccount {
  readonly offered: number;
  readonly accepted: number;
  /** Whole messages dropped at the door (intake.maxMessagesPerS), in readings. */
  readonly shed: number;
  /** Every other counted loss: invalid messages, late or over a bound, filtered, dropped at the spool. */
  readonly dropped: number;
  /** offered − accepted − shed − dropped: a loss no counter names (must be 0). */
  readonly unaccounted: number;
}

/** Reading losses after decoding, each with its counter (edge-agent core/counters.ts). */
const READING_DROPS = ['readings_filtered', 'readings_future', 'readings_late', 'readings_too_late', 'readings_series_limit', 'readings_pane_limit', 'readings_evicted_window'] as const;

/**
 * `counter(name)` reads the agent's `tributary_agent_<name>` (a Prometheus total). Whole messages
 * are shed or invalid before decoding, so they count `readingsPerMessage` each; readings dropped
 * with their batch at the spool bound count too (nothing may be left in the spool at the end).
 */
export function accountReadings(offered: number, readingsPerMessage: number, counter: (name: string) => number): ReadingAccount {
  const accepted = counter('readings_accepted_total');
  const shed = counter('messages_shed_total') * readingsPerMessage;
  const dropped =
    counter('messages_invalid_total') * readingsPerMessage + READING_DROPS.reduce((n, name) => n + counter(`${name}_total`), 0) + counter('readings_dropped_total') + counter('readings_abandoned_total');
  return { offered, accepted, shed, dropped, unaccounted: offered - accepted - shed - dropped };
}

export interface Flatness {
  /** Mean resident memory over the first minute after the warm-up, and over the last minute, in MB. */
  readonly firstMb: number;
  readonly lastMb: number;
  /** (last − first) / first, in %, one decimal. */
  readonly growthPct: number;
  readonly minMb: number;
  readonly maxMb: number;
}

/** How flat resident memory stayed after `warmupS`: the first minute after it against the last (a minute at most, a fifth of what is left at least). */
export function flatness(samples: ReadonlyArray<{ s: number; bytes: number }>, warmupS: number): Flatness {
  const after = samples.filter((x) => x.s >= warmupS);
  const spanS = (after.at(-1)?.s ?? warmupS) - warmupS;
  const windowS = Math.min(60, spanS / 5);
  const mean = (xs: ReadonlyArray<{ bytes: number }>): number => xs.reduce((n, x) => n + x.bytes, 0) / Math.max(1, xs.length);
  const first = mean(after.filter((x) => x.s < warmupS + windowS));
  const last = mean(after.filter((x) => x.s > warmupS + spanS - windowS));
  const mb = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;
  const bytes = after.map((x) => x.bytes);
  return { firstMb: mb(first), lastMb: mb(last), growthPct: Math.round(((last - first) / first) * 1000) / 10, minMb: mb(Math.min(...bytes)), maxMb: mb(Math.max(...bytes)) };
}
