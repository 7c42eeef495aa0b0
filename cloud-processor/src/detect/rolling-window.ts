/** A fixed-capacity ring of numbers, oldest overwritten first. State is its array and head. */
export class RollingWindow {
  private readonly values: number[];
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number, init?: { values: number[]; head: number; size: number }) {
    this.values = init ? init.values.slice(0, capacity) : [];
    if (init) {
      this.head = init.head % capacity;
      this.size = Math.min(init.size, capacity);
    }
  }

  get length(): number {
    return this.size;
  }

  push(x: number): void {
    this.values[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** The held values in no particular order (a copy). */
  toArray(): number[] {
    return this.values.slice(0, this.size);
  }

  snapshot(): { values: number[]; head: number; size: number } {
    return { values: this.values.slice(0, this.size), head: this.head, size: this.size };
  }
}

/** Median of a non-empty array; sorts it in place. */
export function medianInPlace(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Median and median absolute deviation of the values (not modified). */
export function medianAndMad(values: readonly number[]): { median: number; mad: number } {
  const xs = values.slice();
  const median = medianInPlace(xs);
  for (let i = 0; i < xs.length; i++) xs[i] = Math.abs(xs[i]! - median);
  return { median, mad: medianInPlace(xs) };
}
