/** The metric names of a soak message of `n` readings (the load generator sends them, the soak sums them in InfluxDB). */
export const soakMetrics = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`);

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
const READING_DROPS = [
  'readings_filtered',
  'readings_future',
  'readings_late',
  'readings_too_late',
  'readings_series_limit',
  'readings_pane_limit',
  'readings_evicted_window',
] as const;

/**
 * `counter(name)` reads the agent's `tributary_agent_<name>` (a Prometheus total). Whole messages
 * are shed or invalid before decoding, so they count `readingsPerMessage` each; readings dropped
 * with their batch at the spool bound count too (nothing may be left in the spool at the end).
 */
export function accountReadings(
  offered: number,
  readingsPerMessage: number,
  counter: (name: string) => number,
): ReadingAccount {
  const accepted = counter('readings_accepted_total');
  const shed = counter('messages_shed_total') * readingsPerMessage;
  const dropped =
    counter('messages_invalid_total') * readingsPerMessage +
    READING_DROPS.reduce((n, name) => n + counter(`${name}_total`), 0) +
    counter('readings_dropped_total') +
    counter('readings_abandoned_total');
  return { offered, accepted, shed, dropped, unaccounted: offered - accepted - shed - dropped };
}

/** Resident memory over one stretch of the run, in MB. */
export interface MemoryBucket {
  readonly fromS: number;
  readonly minMb: number;
  readonly meanMb: number;
  readonly maxMb: number;
}

export interface Flatness {
  /** The stretches after the warm-up, in order (two minutes each, or a fifth of what is left if less). */
  readonly buckets: readonly MemoryBucket[];
  /** Last stretch against the first, in %: of the means, and of the minima (the floors V8's major collections come down to). */
  readonly meanGrowthPct: number;
  readonly floorGrowthPct: number;
  readonly maxMb: number;
}

/**
 * How flat resident memory stayed after `warmupS`. V8 collects its old generation lazily, so
 * resident memory is a sawtooth whose period can be minutes: the means of two stretches depend on
 * where in it they fall, while the floors (what a major collection comes down to) rise only with
 * memory actually kept. Both are given.
 */
export function flatness(samples: ReadonlyArray<{ s: number; bytes: number }>, warmupS: number): Flatness {
  const after = samples.filter((x) => x.s >= warmupS);
  const spanS = (after.at(-1)?.s ?? warmupS) - warmupS;
  const bucketS = Math.min(120, Math.max(1, spanS / 5));
  const mb = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;
  const buckets: MemoryBucket[] = [];
  for (let from = warmupS; from < warmupS + spanS; from += bucketS) {
    const xs = after.filter((x) => x.s >= from && x.s < from + bucketS).map((x) => x.bytes);
    if (xs.length > 0)
      buckets.push({
        fromS: Math.round(from),
        minMb: mb(Math.min(...xs)),
        meanMb: mb(xs.reduce((n, x) => n + x, 0) / xs.length),
        maxMb: mb(Math.max(...xs)),
      });
  }
  const first = buckets[0]!;
  const last = buckets.at(-1)!;
  const pct = (a: number, b: number): number => Math.round(((b - a) / a) * 1000) / 10;
  return {
    buckets,
    meanGrowthPct: pct(first.meanMb, last.meanMb),
    floorGrowthPct: pct(first.minMb, last.minMb),
    maxMb: Math.max(...buckets.map((b) => b.maxMb)),
  };
}
