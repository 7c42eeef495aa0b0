const keyOf = (device: string, metric: string): string => `${device}\u0000${metric}`;

/**
 * Series the window engine evicted (evict-lru), each with the end of the last window emitted at
 * its eviction, so readings for those windows are refused instead of producing a second, partial
 * emission of the same window. Kept until no reading could reach those windows any more.
 */
export class Tombstones {
  private readonly byKey = new Map<string, { readonly device: string; readonly until: number }>();

  get size(): number {
    return this.byKey.size;
  }

  set(device: string, metric: string, until: number): void {
    this.byKey.set(keyOf(device, metric), { device, until });
  }

  /** Where a new instance of the series must start its panes, or undefined. */
  until(device: string, metric: string): number | undefined {
    return this.byKey.size === 0 ? undefined : this.byKey.get(keyOf(device, metric))?.until;
  }

  /**
   * Drops the tombstones whose windows no reading can reach: their end plus `horizon` (the
   * correction horizon, or 0) is at or before `closedOf(device)`, the boundary before which the
   * device's readings are late. All of them (`full`), or from the oldest while they are expired
   * (O(1) amortised, on the eviction path).
   */
  purge(closedOf: (device: string) => number, horizon: number, full: boolean): void {
    for (const [key, t] of this.byKey) {
      if (t.until + horizon <= closedOf(t.device)) this.byKey.delete(key);
      else if (!full) return;
    }
  }

  clear(): void {
    this.byKey.clear();
  }
}
