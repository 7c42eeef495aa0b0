/** The empty ring every new one starts with (shared: the first value grows its own). */
const EMPTY = new Float32Array(0);
/** Values a ring first makes room for. */
const MIN_ROOM = 48;

/**
 * The last `capacity` values in float32 (a fleet has many series), grown as it fills (half again
 * each time): a young series holds what it has seen. Saved as base64 of its values, oldest first
 * (a fifth of their size as JSON numbers).
 */
export class FloatRing {
  private values: Float32Array;
  private size: number;
  /** Where the next value goes once the ring is full (its oldest). */
  private head: number;

  constructor(
    private readonly capacity: number,
    saved?: string,
  ) {
    this.values = saved ? decodeFloats(saved).slice(-capacity) : EMPTY;
    this.size = this.values.length;
    this.head = this.size % capacity;
  }

  get length(): number {
    return this.size;
  }

  push(x: number): void {
    if (this.size === this.values.length && this.size < this.capacity) {
      // Room for more while the ring is not yet full (its values are then in order, head = size).
      const grown = new Float32Array(Math.min(this.capacity, Math.max(MIN_ROOM, this.size + (this.size >> 1))));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** The i-th value held, oldest first (0 ≤ i < length). */
  at(i: number): number {
    return this.values[this.size < this.capacity ? i : (this.head + i) % this.capacity]!;
  }

  /** The values, oldest first. */
  ordered(): Float32Array {
    if (this.size < this.capacity) return this.values.slice(0, this.size);
    const out = new Float32Array(this.size);
    out.set(this.values.subarray(this.head));
    out.set(this.values.subarray(0, this.head), this.size - this.head);
    return out;
  }

  snapshot(): string {
    return encodeFloats(this.ordered());
  }
}

/** Float32 values as base64 (a fifth of their size as JSON numbers; they restore exactly). */
export function encodeFloats(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function decodeFloats(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength - (bytes.byteLength % 4)),
  );
}
