import { z } from 'zod';
import {
  quiet,
  scoreFromSurprise,
  verdict,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import { Slab } from '../stats/slab.js';
import { CalibrationConfig, SurpriseMeter, type SurpriseMeterState } from '../stats/tail-calibrator.js';

export const NoveltyConfig = z.object({
  /** Points in a shape: the recent values that are compared as one vector. */
  embedLength: z.number().int().min(1).max(64).default(8),
  /** Past shapes remembered (a ring): the detector's notion of "seen before". */
  memorySize: z.number().int().min(16).max(8_192).default(512),
  /** A shape joins the memory only this many points after it ends, so it is not its own neighbour. */
  exclusionPoints: z.number().int().min(0).default(8),
  /**
   * Shapes remembered before distances are calibrated at all: while the memory first fills,
   * nearly every shape is new, and those distances would teach the calibration that large
   * distances are normal.
   */
  minMemory: z.number().int().min(1).default(64),
  calibration: CalibrationConfig.prefault({}),
});
export type NoveltyConfig = z.output<typeof NoveltyConfig>;

interface State {
  seen: number;
  recent: number[];
  pending: number[][];
  memory: number[][];
  memHead: number;
  meter: SurpriseMeterState;
}

/** The current shape (filled and read within one update: no state between calls). */
let cur = new Float64Array(8);

/**
 * Shape novelty: the distance from the last `embedLength` values, as one vector, to the nearest
 * shape in a bounded memory of past shapes, calibrated against the distances this series usually
 * shows. A pattern the series has produced before (a daily ramp, a regular spike, noise of the
 * usual size) has a close neighbour; a new one (a spike on a quiet stretch, a changed rhythm, a
 * flat stretch where there used to be movement) does not. In the spirit of discord and
 * nearest-neighbour novelty detection; O(memorySize · embedLength) per point, with early abandon.
 *
 * Its arrays are regions of the series' slab (stats/slab.ts: float64), where three typed arrays
 * of its own and a growing fourth each cost ~190 bytes of heap and a malloc'd store.
 */
class Novelty implements Detector {
  private readonly L: number;
  /** Region of the slab: the last L values, a ring. */
  private readonly recent: number;
  private recentHead = 0;
  private seen = 0;
  /**
   * Region of the slab: the remembered shapes, as the values they are made of: shapes join the
   * memory one point apart (each the last `embedLength` values at a point), so the i-th oldest is
   * values[start + i … start + i + embedLength), and memorySize shapes take memorySize +
   * embedLength − 1 values, not memorySize × embedLength. Room for twice that (the oldest are
   * moved to the front when the end is reached), grown as the memory fills; empty at first.
   */
  private readonly values: number;
  private start = 0;
  private end = 0;
  /** Slot of the next shape in the ring the snapshot lists (a shape's slot is its number mod memorySize). */
  private memHead = 0;
  /** Shapes that have joined the memory (the newest is number joined − 1). */
  private joined = 0;
  /** Region of the slab: the shapes waiting `exclusionPoints` points to join the memory, a ring. */
  private readonly pending: number;
  private pendHead = 0;
  private pendSize = 0;
  private readonly meter: SurpriseMeter;
  private readonly slab: Slab;
  /** Number of the last nearest shape (not state: only where the next search starts). */
  private nearest = -1;

  constructor(
    private readonly config: NoveltyConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const L = (this.L = config.embedLength);
    const slab = (this.slab = context?.slab ?? new Slab());
    this.recent = slab.alloc(8 * L);
    this.pending = slab.alloc(8 * (config.exclusionPoints + 1) * L);
    this.values = slab.alloc(0);
    const s = snapshot as State | undefined;
    this.meter = new SurpriseMeter(config.calibration, s?.meter, context?.windowMs, slab);
    if (s) {
      for (const x of s.recent) this.pushRecent(x);
      this.seen = s.seen;
      for (const v of s.pending) this.pushPending(Float64Array.from(v));
      // The snapshot lists the ring's slots; oldest first from memHead once it is full.
      const n = s.memory.length;
      for (let i = Math.max(0, n - config.memorySize); i < n; i++) {
        const shape = s.memory[n < config.memorySize ? i : (s.memHead + i) % n]!;
        this.remember(Float64Array.from(shape), 0);
      }
      this.memHead = s.memHead % config.memorySize;
    }
  }

  /** Shapes remembered. */
  private get memSize(): number {
    return Math.min(this.config.memorySize, Math.max(0, this.end - this.start - this.L + 1));
  }

  /**
   * A shape joins the memory: the next point's, so only its last value is new (all of it for the
   * first). `shape[from …]`, or with `shape` undefined the slab's float64s from `from` (read afresh
   * after each value: making room may move them).
   */
  private remember(shape: Float64Array | undefined, from: number): void {
    const L = this.L;
    const pendingAt = shape === undefined ? from - (this.slab.at(this.pending) >> 3) : 0;
    for (let j = this.joined === 0 ? 0 : L - 1; j < L; j++) {
      if (this.end === this.slab.bytes(this.values) >> 3) this.makeRoom();
      const f = this.slab.f64;
      const x = shape === undefined ? f[(this.slab.at(this.pending) >> 3) + pendingAt + j]! : shape[from + j]!;
      f[(this.slab.at(this.values) >> 3) + this.end++] = x;
    }
    if (this.end - this.start > this.config.memorySize + L - 1) this.start++;
    this.joined++;
  }

  /** At the end of the values: grown while the memory fills, else the held ones moved to the front. */
  private makeRoom(): void {
    const held = this.end - this.start;
    const most = 2 * (this.config.memorySize + this.L - 1);
    const room = this.slab.bytes(this.values) >> 3;
    if (room < most && 2 * held >= room)
      this.slab.resize(this.values, 8 * Math.min(most, Math.max(4 * this.L, 2 * room)));
    const o = this.slab.at(this.values) >> 3;
    this.slab.f64.copyWithin(o, o + this.start, o + this.end);
    this.start = 0;
    this.end = held;
  }

  private pushRecent(x: number): void {
    this.slab.f64[(this.slab.at(this.recent) >> 3) + this.recentHead] = x;
    this.recentHead = (this.recentHead + 1) % this.L;
  }

  /** Queues a shape; the one that has waited `exclusionPoints` points joins the memory. */
  private pushPending(v: Float64Array): void {
    const L = this.L;
    const E = this.config.exclusionPoints + 1;
    if (this.pendSize === E) {
      // The oldest queued shape (the slot about to be overwritten) joins the memory.
      this.remember(undefined, (this.slab.at(this.pending) >> 3) + this.pendHead * L);
      this.memHead = (this.memHead + 1) % this.config.memorySize;
    }
    const f = this.slab.f64;
    const at = (this.slab.at(this.pending) >> 3) + this.pendHead * L;
    for (let j = 0; j < L; j++) f[at + j] = v[j]!;
    this.pendHead = (this.pendHead + 1) % E;
    if (this.pendSize < E) this.pendSize++;
  }

  update(point: SeriesPoint): Verdict {
    const L = this.L;
    this.pushRecent(point.value);
    this.seen++;
    if (this.seen < L) return quiet(point.value, 'warming up');
    if (cur.length < L) cur = new Float64Array(L);
    const recent = this.slab.at(this.recent) >> 3;
    for (let j = 0; j < L; j++) cur[j] = this.slab.f64[recent + ((this.recentHead + j) % L)]!;
    let surprise = 0;
    let d = 0;
    const n = this.memSize;
    if (n >= this.config.minMemory) {
      const mem = this.slab.f64;
      const values = this.slab.at(this.values) >> 3;
      const oldest = this.joined - n;
      // Start from the shape after the last nearest one (a series that repeats itself tends to
      // repeat the next shape too): a close first bound abandons most others early. Exact all the same.
      const next = this.nearest + 1 - oldest;
      const first = next >= 0 && next < n ? next : 0;
      let best = Infinity;
      let at = first;
      for (let c = 0; c < n; c++) {
        const k = c === 0 ? first : c <= first ? c - 1 : c;
        let s = 0;
        const o = values + this.start + k;
        for (let j = 0; j < L && s < best; j++) {
          const e = cur[j]! - mem[o + j]!;
          s += e * e;
        }
        if (s < best) {
          best = s;
          at = k;
        }
      }
      this.nearest = oldest + at;
      d = Math.sqrt(best / L);
      surprise = this.meter.judge(d);
    }
    this.pushPending(cur);
    const score = scoreFromSurprise(surprise, this.config.calibration.alarmSurprise);
    if (score < 0.3) return verdict(score, point.value, 'normal', surprise);
    return verdict(
      score,
      point.value,
      `the last ${L} values form a shape not seen before (nearest past shape ${d.toPrecision(3)} away)`,
      surprise,
    );
  }

  snapshot(): State {
    const L = this.L;
    const E = this.config.exclusionPoints + 1;
    const recent: number[] = [];
    const f = this.slab.f64;
    const r = this.slab.at(this.recent) >> 3;
    for (let j = 0; j < L; j++) recent.push(f[r + ((this.recentHead + j) % L)]!);
    const pending: number[][] = [];
    const start = this.pendSize === E ? this.pendHead : 0;
    for (let i = 0; i < this.pendSize; i++) {
      const k = (start + i) % E;
      const p = (this.slab.at(this.pending) >> 3) + k * L;
      pending.push(Array.from(f.subarray(p, p + L)));
    }
    // The ring of slots it was: the shape in slot k is the one numbered k mod memorySize.
    const memory: number[][] = [];
    const n = this.memSize;
    const M = this.config.memorySize;
    for (let k = 0; k < n; k++) {
      const i = n < M ? k : (k - this.memHead + M) % M;
      const v = (this.slab.at(this.values) >> 3) + this.start + i;
      memory.push(Array.from(f.subarray(v, v + L)));
    }
    return {
      seen: this.seen,
      recent: this.seen >= L ? recent : recent.slice(L - this.seen),
      pending,
      memory,
      memHead: this.memHead,
      meter: this.meter.snapshot(),
    };
  }
}

export const createNovelty: DetectorFactory<NoveltyConfig> = (config, snapshot, context) =>
  new Novelty(config, snapshot, context);
