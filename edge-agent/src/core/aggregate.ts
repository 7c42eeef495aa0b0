/**
 * A mergeable aggregate of readings: count, sum, min, max, Welford's running mean and m2 (sum of
 * squared deviations), and the first and last readings by event time. `add` is O(1); `merge`
 * combines two aggregates exactly with Chan et al.'s parallel formula, so panes can be combined
 * into sliding windows and the cloud can roll windows up without raw data.
 */
export interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  m2: number;
  first: number;
  firstTs: number;
  last: number;
  lastTs: number;
}

export function emptyAggregate(): Aggregate {
  return {
    count: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    mean: 0,
    m2: 0,
    first: NaN,
    firstTs: Infinity,
    last: NaN,
    lastTs: -Infinity,
  };
}

export function addReading(a: Aggregate, ts: number, x: number): void {
  a.count++;
  a.sum += x;
  if (x < a.min) a.min = x;
  if (x > a.max) a.max = x;
  // Welford (1962): numerically stable one-pass mean and variance.
  const d = x - a.mean;
  a.mean += d / a.count;
  a.m2 += d * (x - a.mean);
  // Ties keep the reading that arrived first as `first` and the one that arrived last as `last`.
  if (ts < a.firstTs) {
    a.firstTs = ts;
    a.first = x;
  }
  if (ts >= a.lastTs) {
    a.lastTs = ts;
    a.last = x;
  }
}

/** Merges `b` into `a` (Chan, Golub & LeVeque 1979). */
export function mergeInto(a: Aggregate, b: Aggregate): void {
  if (b.count === 0) return;
  if (a.count === 0) {
    copyAggregate(a, b);
    return;
  }
  const n = a.count + b.count;
  const d = b.mean - a.mean;
  a.mean += (d * b.count) / n;
  a.m2 += b.m2 + (d * d * a.count * b.count) / n;
  a.count = n;
  a.sum += b.sum;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  if (b.firstTs < a.firstTs) {
    a.firstTs = b.firstTs;
    a.first = b.first;
  }
  if (b.lastTs >= a.lastTs) {
    a.lastTs = b.lastTs;
    a.last = b.last;
  }
}

/** Sample variance (n − 1), 0 for a single reading. */
export function variance(a: Aggregate): number {
  return a.count > 1 ? a.m2 / (a.count - 1) : 0;
}

/** Copies the aggregate fields of `b` into `a` (and nothing else `b` may carry). */
export function copyAggregate(a: Aggregate, b: Aggregate): void {
  a.count = b.count;
  a.sum = b.sum;
  a.min = b.min;
  a.max = b.max;
  a.mean = b.mean;
  a.m2 = b.m2;
  a.first = b.first;
  a.firstTs = b.firstTs;
  a.last = b.last;
  a.lastTs = b.lastTs;
}

/** Empties `a` in place. */
export function resetAggregate(a: Aggregate): void {
  a.count = 0;
  a.sum = 0;
  a.min = Infinity;
  a.max = -Infinity;
  a.mean = 0;
  a.m2 = 0;
  a.first = NaN;
  a.firstTs = Infinity;
  a.last = NaN;
  a.lastTs = -Infinity;
}
