import { Slab } from './slab.js';

/** One level a series lives at (a machine off, a machine running): where, and how noisy there (the snapshot's form). */
export interface Regime {
  /** Stable identity, for the switches learnt between levels. */
  id: number;
  center: number;
  /** Typical within-window standard deviation at this level. */
  sigma: number;
  visits: number;
  /** Window index of the last visit. */
  last: number;
}

export interface RegimesState {
  levels: Regime[];
  /** Pairs of level ids (`a-b`, a < b), least recently learnt first. */
  switches: string[];
  nextId: number;
}

/** Windows at a level before it counts as a known level of the series. */
const ESTABLISHED = 6;
/** A value belongs to a level when within this many of its sigmas (or of the floor below). */
const BAND_SIGMAS = 6;
const ALPHA = 0.05;
/** Switches remembered between levels (pairs); the oldest is forgotten beyond this. */
const MAX_SWITCHES = 16;

/** A level's float64s in the levels region, after its NEXT_ID header. */
const ID = 0;
const CENTER = 1;
const SIGMA = 2;
const VISITS = 3;
const LAST = 4;
const FIELDS = 5;
const NEXT_ID = 0;
const HEADER = 1;

/**
 * The few levels a series alternates between, learnt online from its calm windows: a machine's
 * vibration at rest and running, a pump's current off and on. Moving between two known levels,
 * or a window that straddles them, is the series' normal life, not a fault; a jump to a level
 * never seen is. Bounded: at most `max` levels, the least recently visited replaced first.
 *
 * Levels are named by their slot (0 to `count` − 1, valid until the next `learn`), and kept with
 * the switches in two regions of the series' slab (stats/slab.ts): the level objects and a Set of
 * string keys each took a few hundred bytes of heap a series (issue 18).
 */
export class Regimes {
  /** NEXT_ID, then FIELDS float64s a level, in the order they were made (the oldest replaced first). */
  private readonly levelsRegion: number;
  /** Pairs of level ids the series has jumped between (lower id first), least recently learnt first. */
  private readonly switchesRegion: number;

  constructor(
    private readonly max = 4,
    init?: RegimesState,
    private readonly slab: Slab = new Slab(),
  ) {
    const levels = init?.levels ?? [];
    this.levelsRegion = slab.alloc((HEADER + FIELDS * levels.length) * 8);
    const switches = init?.switches ?? [];
    this.switchesRegion = slab.alloc(16 * switches.length);
    const f = slab.f64;
    const o = slab.at(this.levelsRegion) >> 3;
    f[o + NEXT_ID] = init?.nextId ?? 0;
    levels.forEach((r, i) => {
      const l = o + HEADER + i * FIELDS;
      f[l + ID] = r.id;
      f[l + CENTER] = r.center;
      f[l + SIGMA] = r.sigma;
      f[l + VISITS] = r.visits;
      f[l + LAST] = r.last;
    });
    const w = slab.at(this.switchesRegion) >> 3;
    switches.forEach((key, i) => {
      const [a, b] = key.split('-').map(Number) as [number, number];
      f[w + 2 * i] = a;
      f[w + 2 * i + 1] = b;
    });
  }

  /** Known levels (established or not). */
  get count(): number {
    return (this.slab.bytes(this.levelsRegion) / 8 - HEADER) / FIELDS;
  }

  center(slot: number): number {
    return this.field(slot, CENTER);
  }

  sigma(slot: number): number {
    return this.field(slot, SIGMA);
  }

  id(slot: number): number {
    return this.field(slot, ID);
  }

  /** The slot of the level with this id, or -1 (forgotten). */
  slotOf(id: number): number {
    const n = this.count;
    for (let i = 0; i < n; i++) if (this.field(i, ID) === id) return i;
    return -1;
  }

  /** Whether the series has switched between the levels in these two slots before. */
  knownSwitch(a: number, b: number): boolean {
    return this.switchAt(this.id(a), this.id(b)) >= 0;
  }

  /** Remembers a jump between two levels (by slot), so the next one is the series' normal life. */
  learnSwitch(a: number, b: number): void {
    const idA = this.id(a);
    const idB = this.id(b);
    const lo = Math.min(idA, idB);
    const hi = Math.max(idA, idB);
    const slab = this.slab;
    const i = this.switchAt(idA, idB);
    let n = slab.bytes(this.switchesRegion) / 16;
    if (i < 0) slab.resize(this.switchesRegion, 16 * ++n);
    const f = slab.f64;
    const w = slab.at(this.switchesRegion) >> 3;
    // Moved to the end (most recently learnt), as a Set's delete and add did.
    if (i >= 0) f.copyWithin(w + 2 * i, w + 2 * i + 2, w + 2 * n);
    f[w + 2 * n - 2] = lo;
    f[w + 2 * n - 1] = hi;
    if (n > MAX_SWITCHES) {
      f.copyWithin(w, w + 2, w + 2 * n);
      slab.resize(this.switchesRegion, 16 * (n - 1));
    }
  }

  snapshot(): RegimesState {
    const levels: Regime[] = [];
    for (let i = 0; i < this.count; i++)
      levels.push({
        id: this.field(i, ID),
        center: this.field(i, CENTER),
        sigma: this.field(i, SIGMA),
        visits: this.field(i, VISITS),
        last: this.field(i, LAST),
      });
    const switches: string[] = [];
    const f = this.slab.f64;
    const w = this.slab.at(this.switchesRegion) >> 3;
    const n = this.slab.bytes(this.switchesRegion) / 16;
    for (let i = 0; i < n; i++) switches.push(`${f[w + 2 * i]}-${f[w + 2 * i + 1]}`);
    return { levels, switches, nextId: f[(this.slab.at(this.levelsRegion) >> 3) + NEXT_ID]! };
  }

  /** The slot of the known level `x` lies in, or -1 (`floor`: the least band width, from the series' noise). */
  knownLevelOf(x: number, floor: number): number {
    let best = -1;
    let bestD = Infinity;
    const f = this.slab.f64;
    const o = (this.slab.at(this.levelsRegion) >> 3) + HEADER;
    const n = this.count;
    for (let i = 0; i < n; i++) {
      const l = o + i * FIELDS;
      if (f[l + VISITS]! < ESTABLISHED) continue;
      const d = Math.abs(x - f[l + CENTER]!);
      if (d <= Math.max(BAND_SIGMAS * f[l + SIGMA]!, floor) && d < bestD) {
        best = i;
        bestD = d;
      }
    }
    return best;
  }

  /**
   * Learns from a calm window (its spread no larger than usual somewhere): joins the nearest level
   * when within its band, else starts a new one. Returns the id of the level it joined or started.
   */
  learn(mean: number, stddev: number, index: number, floor: number): number {
    const slab = this.slab;
    let f = slab.f64;
    let o = (slab.at(this.levelsRegion) >> 3) + HEADER;
    let n = this.count;
    let nearest = -1;
    let nearestD = Infinity;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(mean - f[o + i * FIELDS + CENTER]!);
      if (d < nearestD) {
        nearest = i;
        nearestD = d;
      }
    }
    if (nearest >= 0 && nearestD <= Math.max(BAND_SIGMAS * f[o + nearest * FIELDS + SIGMA]!, floor)) {
      const l = o + nearest * FIELDS;
      f[l + CENTER] = f[l + CENTER]! + ALPHA * (mean - f[l + CENTER]!);
      f[l + SIGMA] = f[l + SIGMA]! + ALPHA * (stddev - f[l + SIGMA]!);
      f[l + VISITS]!++;
      f[l + LAST] = index;
      return f[l + ID]!;
    }
    const id = f[o - HEADER + NEXT_ID]!;
    f[o - HEADER + NEXT_ID] = id + 1;
    if (n >= this.max) {
      let oldest = 0;
      for (let i = 1; i < n; i++) if (f[o + i * FIELDS + LAST]! < f[o + oldest * FIELDS + LAST]!) oldest = i;
      f.copyWithin(o + oldest * FIELDS, o + (oldest + 1) * FIELDS, o + n * FIELDS);
      n--;
    } else {
      slab.resize(this.levelsRegion, (HEADER + FIELDS * (n + 1)) * 8);
      f = slab.f64;
      o = (slab.at(this.levelsRegion) >> 3) + HEADER;
    }
    const l = o + n * FIELDS;
    f[l + ID] = id;
    f[l + CENTER] = mean;
    f[l + SIGMA] = Math.max(stddev, floor / BAND_SIGMAS);
    f[l + VISITS] = 1;
    f[l + LAST] = index;
    return id;
  }

  /** Where the pair of these two ids sits among the switches, or -1. */
  private switchAt(a: number, b: number): number {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const f = this.slab.f64;
    const w = this.slab.at(this.switchesRegion) >> 3;
    const n = this.slab.bytes(this.switchesRegion) / 16;
    for (let i = 0; i < n; i++) if (f[w + 2 * i] === lo && f[w + 2 * i + 1] === hi) return i;
    return -1;
  }

  private field(slot: number, k: number): number {
    return this.slab.f64[(this.slab.at(this.levelsRegion) >> 3) + HEADER + slot * FIELDS + k]!;
  }
}
