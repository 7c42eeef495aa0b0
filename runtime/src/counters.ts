/**
 * Named monotonic counters and gauges of one process, carried in batch envelopes and exposed on
 * `/metrics` through prom-client (runtime/metrics.ts). Names are snake_case; a counter only goes
 * up. Incrementing is a Map update: the agent counts every reading, so the hot path stays cheap and
 * prom-client reads the values when scraped.
 */
export class Counters<Name extends string = string> {
  private readonly values = new Map<string, number>();
  private readonly gauges = new Map<string, () => number>();

  constructor(private readonly help: Readonly<Record<Name, string>>) {
    for (const name of Object.keys(help)) this.values.set(name, 0);
  }

  inc(name: Name, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: Name): number {
    return this.values.get(name) ?? 0;
  }

  /** A value read when exported (queue depth, active series). */
  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  /** Counter values (not gauges), for a batch envelope or a summary. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  /** Every counter with its help text, then every gauge, for an exporter. */
  describe(): Array<{
    readonly name: string;
    readonly help: string;
    readonly kind: 'counter' | 'gauge';
    readonly read: () => number;
  }> {
    const help = this.help as Readonly<Record<string, string>>;
    return [
      ...[...this.values.keys()].map((name) => ({
        name,
        help: help[name] ?? name,
        kind: 'counter' as const,
        read: () => this.values.get(name) ?? 0,
      })),
      ...[...this.gauges].map(([name, read]) => ({
        name,
        help: name.replace(/_/g, ' '),
        kind: 'gauge' as const,
        read,
      })),
    ];
  }
}
