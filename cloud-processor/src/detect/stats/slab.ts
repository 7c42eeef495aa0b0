/**
 * The numeric state of a series' detectors and their helpers (sorted windows, histograms, rings,
 * calibrators, level trackers; their arrays and scalars) in one ArrayBuffer, each helper's numbers
 * a region of it read by offset. A typed array of its own costs a helper ~190 bytes of heap (the
 * view and its ArrayBuffer) and a malloc'd backing store with its bookkeeping besides its values,
 * and a number in a field a 16-byte heap object; a series had ~20 arrays, so one slab a series
 * (the ensemble shares one among its members: DetectorContext.slab) saves kilobytes (issue 18).
 *
 * Regions are laid out in the order they were allocated, each at an 8-byte boundary so that any
 * view may read it. A region that grows or shrinks moves the regions after it (within the buffer
 * while it has room, else into a new one): a helper keeps its region's id, never an offset or a
 * view across a call that may resize (`at` and the views are read afresh after one).
 *
 * The views over the whole buffer (`f64`, `f32`, `u32`, `u8`) are made when first read after the
 * buffer changed: a slab that keeps only float64s has one view.
 */
export class Slab {
  private buffer = EMPTY_BUFFER;
  private f64View: Float64Array | undefined;
  private f32View: Float32Array | undefined;
  private u32View: Uint32Array | undefined;
  private u8View: Uint8Array | undefined;
  /**
   * Per region, by id: its byte offset × SPLIT + its byte length, one number a region (two small
   * integers took an 8-byte slot each). Copied whole when a region is added (rarely: when a
   * helper is made), so the array has no room to spare.
   */
  private layout: number[] = [];
  /** Bytes the regions take (each padded to 8); the buffer may hold more, room to grow into. */
  private used = 0;

  /**
   * `capacity`: bytes the regions are known to take soon (an ensemble's members once built, as
   * its earlier series' took): the buffer is made once for them, with the room a buffer of that
   * size gets, instead of anew as each region is added.
   */
  constructor(capacity = 0) {
    if (capacity > 0) this.buffer = new ArrayBuffer(padded(capacity) + room(padded(capacity)));
  }

  /** A new region of `bytes` zero bytes; its id (ids count up from 0 in a slab). */
  alloc(bytes: number): number {
    const id = this.layout.length;
    // Copied into an array of exactly this many entries: with a number's store that is no Smi,
    // V8 keeps the entries unboxed (8 bytes each, where concat held a 16-byte object for each).
    const layout = new Array<number>(id + 1);
    for (let r = 0; r < id; r++) layout[r] = this.layout[r]!;
    layout[id] = this.used * SPLIT;
    this.layout = layout;
    if (bytes > 0) this.resize(id, bytes);
    return id;
  }

  /** The byte offset of region `id` (read it again after any resize in this slab). */
  at(id: number): number {
    // | 0: an int32 (offsets are far below 2^31), so that indexes built from it stay integers.
    return (this.layout[id]! / SPLIT) | 0;
  }

  /** The byte length of region `id`. */
  bytes(id: number): number {
    const entry = this.layout[id]!;
    return (entry - ((entry / SPLIT) | 0) * SPLIT) | 0;
  }

  /**
   * Makes region `id` `bytes` long: its first min(old, new) bytes are kept and any new ones are
   * zero, or with `keep` false all of them are zero (for an owner that lays its values out anew
   * from a copy); the regions after it move. In place while the buffer has room (the regions after
   * it shifted by one copy); else into a new buffer with room for a sixteenth more (at most
   * MAX_ROOM), so that the growing helpers of a young series do not each allocate and copy the
   * whole slab, while a full one (whose helpers have stopped growing) keeps little room unused.
   */
  resize(id: number, bytes: number, keep = true): void {
    if (!(bytes >= 0 && bytes < SPLIT))
      throw new RangeError(`a slab's region holds under ${SPLIT} bytes (asked for ${bytes})`);
    const layout = this.layout;
    const start = this.at(id);
    const length = this.bytes(id);
    const kept = keep ? Math.min(length, bytes) : 0;
    const tail = start + padded(length);
    const delta = padded(bytes) - padded(length);
    const used = this.used + delta;
    if (used <= this.buffer.byteLength) {
      // In float64s (every region starts at an 8-byte boundary and is padded to one): a slab needs
      // no byte view of its own to move its regions.
      const f64 = this.f64;
      f64.copyWithin((tail + delta) >> 3, tail >> 3, this.used >> 3);
      // New bytes are zero: the region's beyond what it keeps, and those the regions left (shrinking).
      const from = start + kept;
      if ((from & 7) !== 0) this.zero(from);
      f64.fill(0, padded(from) >> 3, (start + padded(bytes)) >> 3);
      if (delta < 0) f64.fill(0, used >> 3, this.used >> 3);
    } else {
      const next = new ArrayBuffer(used + room(used));
      // Copied in 32-bit words (exact whatever the bytes: a float64 copy may rewrite a NaN's bits),
      // with no byte views and subarrays of both buffers (four objects a move, on a young series
      // several moves a window). No view of the new buffer is kept: each costs heap a series, and
      // the views its helpers read are made when first read.
      const from = this.u32;
      const to = new Uint32Array(next);
      // Only a region that grows moves the slab (kept is its length, or 0 without `keep`): the
      // words up to its padded end are its bytes and its padding's zeros (every path zeroes padding).
      const keptTo = padded(start + kept) >> 2;
      for (let i = 0; i < keptTo; i++) to[i] = from[i]!;
      for (let i = tail >> 2, j = (tail + delta) >> 2, end = this.used >> 2; i < end; i++, j++) to[j] = from[i]!;
      this.buffer = next;
      this.f64View = this.f32View = this.u32View = this.u8View = undefined;
    }
    layout[id] = start * SPLIT + bytes;
    for (let r = id + 1; r < layout.length; r++) layout[r]! += delta * SPLIT;
    this.used = used;
  }

  /** Zeroes the bytes from `from` (not at an 8-byte boundary) to the next boundary. */
  private zero(from: number): void {
    if ((from & 3) === 0) this.f32[from >> 2] = 0;
    else this.u8.fill(0, from, padded(from));
  }

  /** The i-th float64 of region `id` (a helper's scalar: a number in a field is a 16-byte heap object of its own). */
  num(id: number, i: number): number {
    return this.f64[(this.at(id) >> 3) + i]!;
  }

  setNum(id: number, i: number, x: number): void {
    this.f64[(this.at(id) >> 3) + i] = x;
  }

  /** Bytes the regions take (each padded to 8). */
  get byteLength(): number {
    return this.used;
  }

  get f64(): Float64Array {
    return (this.f64View ??= new Float64Array(this.buffer));
  }

  get f32(): Float32Array {
    return (this.f32View ??= new Float32Array(this.buffer));
  }

  get u32(): Uint32Array {
    return (this.u32View ??= new Uint32Array(this.buffer));
  }

  get u8(): Uint8Array {
    return (this.u8View ??= new Uint8Array(this.buffer));
  }
}

const EMPTY_BUFFER = new ArrayBuffer(0);
/** Bytes of room a new buffer keeps at most beyond its regions (a few growth steps of a helper). */
const MAX_ROOM = 256;
/** A region's offset and length share one number: offset × SPLIT + length (exact: both far below 2^26). */
const SPLIT = 2 ** 24;

/** Room a new buffer keeps beyond `used` bytes of regions: a sixteenth more, at most MAX_ROOM (see `resize`). */
function room(used: number): number {
  return Math.min(MAX_ROOM, (used >> 4) & ~7);
}

function padded(bytes: number): number {
  return (bytes + 7) & ~7;
}
