import type { WindowResult } from '@tributary/firmware-schemas';

/**
 * Collects window results into micro-batches: a batch is sealed when it holds `maxWindows`
 * windows or its oldest window has waited `maxDelayMs`. Pure: the caller drives time.
 */
export class Batcher {
  private windows: WindowResult[] = [];
  private openedAt = 0;

  constructor(
    private readonly maxWindows: number,
    private readonly maxDelayMs: number,
    private readonly seal: (windows: WindowResult[]) => void,
  ) {}

  get pending(): number {
    return this.windows.length;
  }

  add(window: WindowResult, now: number): void {
    if (this.windows.length === 0) this.openedAt = now;
    this.windows.push(window);
    if (this.windows.length >= this.maxWindows) this.flush();
  }

  /** Seals the open batch if its oldest window has waited long enough. */
  tick(now: number): void {
    if (this.windows.length > 0 && now - this.openedAt >= this.maxDelayMs) this.flush();
  }

  /** Seals whatever is open. */
  flush(): void {
    if (this.windows.length === 0) return;
    const windows = this.windows;
    this.windows = [];
    this.seal(windows);
  }
}
