import { Slab } from './slab.js';

/** A seasonal profile's bins as a snapshot holds them: one entry per bin. */
export interface PhaseBinsState {
  season: number[];
  scale: number[];
  visits: number[];
}

/**
 * Visits are told apart as 0, 1 and 2 or more (seasonal.ts): counting stops at 3, two bits a bin,
 * twelve bins a float32 (an integer below 2^24, exact): no byte view of the slab for them (a
 * Uint8Array over the slab was ~100 bytes of heap a series), and only for the bins held.
 */
const MAX_VISITS = 3;
const VISITS_A_WORD = 12;

/**
 * A seasonal profile's state per phase bin: the profile's value, the usual residual there (its
 * scale) and how often the bin was visited; values and scales in float32 (the profile is the
 * cycle's departure from the level, and the scale a residual's size: neither needs more than 7
 * digits, and a day of minute bins took 4.6 kB a series in float64). They are kept for the bins
 * from the first one visited onwards (round the cycle), as far as the cycle has reached: time moves
 * forward, so a series seen for an hour holds an hour's bins of its week, not the week's; the room
 * grows a bin at a time (a new bin comes once in several windows, and a slab's region that grows
 * moves only the regions after it: room to spare, half again each time, was a third of a young
 * series' daily profile). A bin never visited reads 0, as a profile filled with zeros did.
 */
export class PhaseBins {
  /**
   * Region of the slab (float32): the held bins' visits (VISITS_A_WORD a float), then bin
   * `first + i` (round the cycle) at 2i (its value) and 2i + 1 (its scale) of what follows;
   * empty before the first visit.
   */
  private readonly region: number;
  private first = 0;
  /** Bins held. */
  private held = 0;

  constructor(
    readonly count: number,
    init?: PhaseBinsState,
    /** The owner's (one buffer for all of a detector's arrays), else one of its own. */
    private readonly slab: Slab = new Slab(),
  ) {
    this.region = slab.alloc(0);
    if (init) {
      for (let b = 0; b < count; b++) {
        const visits = init.visits[b] ?? 0;
        if (visits > 0) this.set(b, init.season[b] ?? 0, init.scale[b] ?? 0, visits);
      }
    }
  }

  visits(b: number): number {
    const i = this.offset(b);
    if (i >= this.held) return 0;
    const word = this.slab.f32[this.base + ((i / VISITS_A_WORD) | 0)]!;
    return (word >> ((i % VISITS_A_WORD) << 1)) & MAX_VISITS;
  }

  season(b: number): number {
    const i = this.offset(b);
    return i < this.held ? this.slab.f32[this.values + 2 * i]! : 0;
  }

  scale(b: number): number {
    const i = this.offset(b);
    return i < this.held ? this.slab.f32[this.values + 2 * i + 1]! : 0;
  }

  /** Bin b's new profile value and scale, after one more visit. */
  visit(b: number, season: number, scale: number): void {
    this.set(b, season, scale, this.visits(b) + 1);
  }

  /** Index of the first visits' float in the slab's float32 view. */
  private get base(): number {
    return this.slab.at(this.region) >> 2;
  }

  /** Index of the first value in the slab's float32 view. */
  private get values(): number {
    return this.base + words(this.held);
  }

  /** Bins from the first one held up to b, round the cycle. */
  private offset(b: number): number {
    return b >= this.first ? b - this.first : b - this.first + this.count;
  }

  private set(b: number, season: number, scale: number, visits: number): void {
    if (this.held === 0) this.first = b;
    const i = this.offset(b);
    if (i >= this.held) this.grow(i + 1);
    const f32 = this.slab.f32;
    const values = this.values;
    f32[values + 2 * i] = season;
    f32[values + 2 * i + 1] = scale;
    const at = this.base + ((i / VISITS_A_WORD) | 0);
    const shift = (i % VISITS_A_WORD) << 1;
    f32[at] = (f32[at]! & ~(MAX_VISITS << shift)) | (Math.min(MAX_VISITS, visits) << shift);
  }

  /** Holds `held` bins: the values move after the visits' floats, the new ones 0. */
  private grow(held: number): void {
    const was = this.held;
    this.slab.resize(this.region, 4 * (words(held) + 2 * held));
    const f32 = this.slab.f32;
    const more = words(held) - words(was);
    if (more > 0) {
      const values = this.base + words(was);
      f32.copyWithin(values + more, values, values + 2 * was);
      f32.fill(0, values, values + more);
    }
    this.held = held;
  }

  snapshot(): PhaseBinsState {
    const state: PhaseBinsState = { season: [], scale: [], visits: [] };
    for (let b = 0; b < this.count; b++) {
      state.season.push(this.season(b));
      state.scale.push(this.scale(b));
      state.visits.push(this.visits(b));
    }
    return state;
  }
}

/** Floats the visits of `held` bins take. */
function words(held: number): number {
  return Math.ceil(held / VISITS_A_WORD);
}
