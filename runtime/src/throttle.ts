/**
 * Lets something happen at most once per interval: a warning that a flood of bad input (refused
 * clients, invalid acks) must not repeat once per item. The counts go elsewhere; this only spaces
 * the lines out.
 */
export class Throttle {
  private last = -Infinity;

  constructor(private readonly intervalMs: number) {}

  /** True, starting a new interval, when the last true was at least `intervalMs` ago. */
  ready(now = Date.now()): boolean {
    if (now - this.last < this.intervalMs) return false;
    this.last = now;
    return true;
  }
}
