import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Counters } from './counters.js';

/**
 * Latency buckets in seconds, 5 ms to one hour: an ack over loopback takes milliseconds; a window
 * waits its allowed lateness (seconds to minutes) before it closes, so 10 s to 2 min is finer.
 */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600,
];

/** What a latency histogram is given: seconds, one observation at a time. */
export interface LatencyObserver {
  observe(seconds: number): void;
}

/**
 * A process's `/metrics`: a prom-client registry holding its counters and gauges under one prefix
 * (`tributary_agent`, `tributary_cloud`; counters as `<prefix>_<name>_total`, names and help as
 * they always were) and its latency histograms. Values are read from `Counters` when scraped.
 */
export class ProcessMetrics {
  /**
   * `labels` go on every series (the agent's id on the agent's); `registry` is another
   * ProcessMetrics' to add a second prefix to the same /metrics.
   */
  constructor(
    private readonly prefix: string,
    labels: Readonly<Record<string, string>> = {},
    readonly registry = new Registry(),
  ) {
    if (Object.keys(labels).length > 0) this.registry.setDefaultLabels({ ...labels });
  }

  /** Exposes every counter and gauge `counters` has now. */
  expose(counters: Counters): this {
    for (const c of counters.describe()) {
      if (c.kind === 'gauge') {
        new Gauge({
          name: `${this.prefix}_${c.name}`,
          help: c.help,
          registers: [this.registry],
          collect() {
            this.set(c.read());
          },
        });
        continue;
      }
      let exported = 0;
      new Counter({
        name: `${this.prefix}_${c.name}_total`,
        help: c.help,
        registers: [this.registry],
        collect() {
          // Catches up with the live value; a counter only goes up.
          const now = c.read();
          if (now > exported) this.inc(now - exported);
          exported = now;
        },
      });
    }
    return this;
  }

  /** A histogram of seconds, `<prefix>_<name>_seconds`. */
  latency(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS_S): Histogram {
    return new Histogram({
      name: `${this.prefix}_${name}_seconds`,
      help,
      buckets: [...buckets],
      registers: [this.registry],
    });
  }

  /**
   * A family of values by one label, read when scraped (`read` returns label value → value):
   * a counter (`_total`) or a gauge. Label values are escaped by prom-client.
   */
  family(
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    label: string,
    read: () => Iterable<readonly [string, number]>,
  ): void {
    const fill = (m: Counter | Gauge): void => {
      m.reset();
      for (const [value, n] of read())
        m instanceof Counter ? m.inc({ [label]: value }, n) : m.set({ [label]: value }, n);
    };
    if (kind === 'counter')
      new Counter({
        name: `${this.prefix}_${name}_total`,
        help,
        labelNames: [label],
        registers: [this.registry],
        collect() {
          fill(this);
        },
      });
    else
      new Gauge({
        name: `${this.prefix}_${name}`,
        help,
        labelNames: [label],
        registers: [this.registry],
        collect() {
          fill(this);
        },
      });
  }

  /** The q-quantile of the latency histogram `name` (as given to `latency`), or undefined without observations. */
  quantile(name: string, q: number): Promise<number | undefined> {
    const h = this.registry.getSingleMetric(`${this.prefix}_${name}_seconds`);
    if (!(h instanceof Histogram)) throw new Error(`no latency histogram ${name}`);
    return histogramQuantile(h, q);
  }

  /** Prometheus text exposition format 0.0.4. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The q-quantile of a histogram from its cumulative buckets, interpolated within the bucket as
 * Prometheus's histogram_quantile does; undefined without observations.
 */
export async function histogramQuantile(h: Histogram, q: number): Promise<number | undefined> {
  const values = (await h.get()).values;
  const buckets = values
    .filter((v) => v.metricName?.endsWith('_bucket'))
    .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), n: v.value }));
  const total = buckets.at(-1)?.n ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let below = { le: 0, n: 0 };
  for (const b of buckets) {
    if (b.n >= rank) {
      if (b.le === Infinity) return below.le; // above the highest bound: its bound, as Prometheus answers
      return below.le + ((b.le - below.le) * (rank - below.n)) / Math.max(b.n - below.n, 1e-12);
    }
    below = b;
  }
  return below.le;
}
