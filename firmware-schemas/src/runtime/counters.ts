/**
 * Named monotonic counters and gauges of one process, exposed as Prometheus text and carried in
 * batch envelopes. Names are snake_case; a counter only goes up.
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

  /** Prometheus text exposition format 0.0.4. */
  toPrometheus(prefix: string, labels: Readonly<Record<string, string>> = {}): string {
    const labelText = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    const suffix = labelText === '' ? '' : `{${labelText}}`;
    const lines: string[] = [];
    for (const [name, value] of this.values) {
      const help = (this.help as Record<string, string>)[name] ?? name;
      lines.push(`# HELP ${prefix}_${name}_total ${help}`, `# TYPE ${prefix}_${name}_total counter`, `${prefix}_${name}_total${suffix} ${value}`);
    }
    for (const [name, read] of this.gauges) {
      lines.push(`# TYPE ${prefix}_${name} gauge`, `${prefix}_${name}${suffix} ${read()}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
