import type { SimDevice } from './device.js';

/**
 * The devices ordered by the simulated time of their next tick (a binary min-heap; ties go to the
 * device listed first), so the fleet's messages leave in event-time order whatever the sample
 * rates. O(log n) per tick.
 */
export class TickQueue {
  private readonly heap: Array<{ readonly device: SimDevice; readonly rank: number }> = [];

  constructor(devices: readonly SimDevice[]) {
    devices.forEach((device, rank) => this.push({ device, rank }));
  }

  get size(): number {
    return this.heap.length;
  }

  /** The device whose tick comes next, without removing it. */
  peek(): SimDevice | undefined {
    return this.heap[0]?.device;
  }

  /** Call after the first device's `nextTs` moved on: restores the order. */
  advanced(): void {
    this.siftDown(0);
  }

  /** Removes the first device (it has nothing more to play). */
  pop(): void {
    const last = this.heap.pop();
    if (last !== undefined && this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
  }

  private push(d: { readonly device: SimDevice; readonly rank: number }): void {
    this.heap.push(d);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.heap[i]!, this.heap[parent]!)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent]!, this.heap[i]!];
      i = parent;
    }
  }

  private before(
    a: { readonly device: SimDevice; readonly rank: number },
    b: { readonly device: SimDevice; readonly rank: number },
  ): boolean {
    return a.device.nextTs < b.device.nextTs || (a.device.nextTs === b.device.nextTs && a.rank < b.rank);
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(h[l]!, h[m]!)) m = l;
      if (r < n && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
