/**
 * The typed-array state of one detector and its helpers (sorted windows, histograms, rings,
 * calibrators) in one ArrayBuffer, each helper's numbers a region of it read by offset. A typed
 * array of its own costs a helper about 170 bytes of heap (the view and its ArrayBuffer) and a
 * malloc'd backing store with its bookkeeping besides its values; a fleet has ~20 of them a series,
 * so one slab a member instead of one array a helper is kilobytes a series (issue 18).
 *
 * Regions are laid out in the order they were allocated, each at an 8-byte boundary so that any
 * view may read it. A region that grows or shrinks rebuilds the slab (a new buffer, every region
 * copied to its new place): regions move, so a helper keeps its region's id, never an offset or a
 * view across a call that may resize (`at` and the views are read afresh after one). Helpers grow
 * geometrically, so a member rebuilds its slab a few dozen times over its life, not per point.
 *
 * The views over the whole buffer (`f64`, `f32`, `u32`, `u8`) are made when first read after a
 * rebuild: a member that keeps only float32s has one view.
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

  /** A new region of `bytes` zero bytes; its id (ids count up from 0 in a slab). */
  alloc(bytes: number): number {
    const id = this.layout.length;
    // Copied into an array of exactly this many entries: with a number's store that is no Smi,
    // V8 keeps the entries unboxed (8 bytes each, where concat held a 16-byte object for each).
    const layout = new Array<number>(id + 1);
    for (let r = 0; r < id; r++) layout[r] = this.layout[r]!;
    layout[id] = this.buffer.byteLength * SPLIT;
    this.layout = layout;
    if (bytes > 0) this.resize(id, bytes);
    return id;
  }

  /** The byte offset of region `id` (read it again after any resize in this slab). */
  at(id: number): number {
    return Math.floor(this.layout[id]! / SPLIT);
  }

  /** The byte length of region `id`. */
  bytes(id: number): number {
    const entry = this.layout[id]!;
    return entry - Math.floor(entry / SPLIT) * SPLIT;
  }

  /**
   * Makes region `id` `bytes` long: its first min(old, new) bytes are kept and any new ones are
   * zero, or with `keep` false all of them are zero (for an owner that lays its values out anew
   * from a copy); every region may move.
   */
  resize(id: number, bytes: number, keep = true): void {
    if (!(bytes >= 0 && bytes < SPLIT))
      throw new RangeError(`a slab's region holds under ${SPLIT} bytes (asked for ${bytes})`);
    const layout = this.layout;
    const regions = layout.length;
    let total = 0;
    for (let r = 0; r < regions; r++) total += padded(r === id ? bytes : this.bytes(r));
    const next = total === 0 ? EMPTY_BUFFER : new ArrayBuffer(total);
    const from = new Uint8Array(this.buffer);
    const to = new Uint8Array(next);
    let offset = 0;
    for (let r = 0; r < regions; r++) {
      const start = this.at(r);
      const length = this.bytes(r);
      const kept = r === id ? (keep ? Math.min(length, bytes) : 0) : length;
      if (kept > 0) to.set(from.subarray(start, start + kept), offset);
      const size = r === id ? bytes : length;
      layout[r] = offset * SPLIT + size;
      offset += padded(size);
    }
    this.buffer = next;
    this.f64View = this.f32View = this.u32View = this.u8View = undefined;
  }

  /** The i-th float64 of region `id` (a helper's scalar: a number in a field is a 16-byte heap object of its own). */
  num(id: number, i: number): number {
    return this.f64[(this.at(id) >> 3) + i]!;
  }

  setNum(id: number, i: number, x: number): void {
    this.f64[(this.at(id) >> 3) + i] = x;
  }

  /** Bytes the slab holds (its regions, each padded to 8). */
  get byteLength(): number {
    return this.buffer.byteLength;
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
/** A region's offset and length share one number: offset × SPLIT + length (exact: both far below 2^26). */
const SPLIT = 2 ** 24;

function padded(bytes: number): number {
  return (bytes + 7) & ~7;
}
