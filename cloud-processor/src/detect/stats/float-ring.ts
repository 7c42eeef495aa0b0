import { Slab } from './slab.js';

/** Values a ring first makes room for. */
const MIN_ROOM = 48;

/**
 * The last `capacity` values in float32 (a fleet has many series), grown as it fills (half again
 * each time): a young series holds what it has seen. Saved as base64 of its values, oldest first
 * (a fifth of their size as JSON numbers).
 */
export class FloatRing {
  /** Region of the slab: the values (empty before the first). */
  private readonly region: number;
  private size: number;
  /** Where the next value goes once the ring is full (its oldest). */
  private head: number;

  constructor(
    private readonly capacity: number,
    saved?: string,
    /** The owner's (one buffer for all of a detector's arrays), else one of its own. */
    private readonly slab: Slab = new Slab(),
  ) {
    const values = saved ? decodeFloats(saved).subarray(-capacity) : undefined;
    this.size = values?.length ?? 0;
    this.region = slab.alloc(4 * this.size);
    if (values) slab.f32.set(values, this.base);
    this.head = this.size % capacity;
  }

  /** Index of the ring's first value in the slab's float32 view. */
  private get base(): number {
    return this.slab.at(this.region) >> 2;
  }

  /** Values the ring has room for. */
  private get room(): number {
    return this.slab.bytes(this.region) >> 2;
  }

  get length(): number {
    return this.size;
  }

  push(x: number): void {
    if (this.size === this.room && this.size < this.capacity) {
      // Room for more while the ring is not yet full (its values are then in order, head = size).
      this.slab.resize(this.region, 4 * Math.min(this.capacity, Math.max(MIN_ROOM, this.size + (this.size >> 1))));
    }
    this.slab.f32[this.base + this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** The i-th value held, oldest first (0 ≤ i < length). */
  at(i: number): number {
    return this.slab.f32[this.base + (this.size < this.capacity ? i : (this.head + i) % this.capacity)]!;
  }

  /** The values, oldest first. */
  ordered(): Float32Array {
    const values = this.slab.f32.subarray(this.base, this.base + this.room);
    if (this.size < this.capacity) return values.slice(0, this.size);
    const out = new Float32Array(this.size);
    out.set(values.subarray(this.head));
    out.set(values.subarray(0, this.head), this.size - this.head);
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
