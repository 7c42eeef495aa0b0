import { Slab } from './slab.js';

/** A seasonal profile's bins as a snapshot holds them: one entry per bin. */
export interface PhaseBinsState {
  season: number[];
  scale: number[];
  visits: number[];
}

/** Bins the profile first makes room for. */
const MIN_ROOM = 8;
/**
 * Visits are told apart as 0, 1 and 2 or more (seasonal.ts): counting stops at 3, two bits a bin,
 * four bins a byte (a byte a bin was 456 bytes a series for the daily and weekly profiles).
 */
const MAX_VISITS = 3;

/**
 * A seasonal profile's state per phase bin: the profile's value, the usual residual there (its
 * scale) and how often the bin was visited, in typed arrays; values and scales in float32 (the
 * profile is the cycle's departure from the level, and the scale a residual's size: neither needs
 * more than 7 digits, and a day of minute bins took 4.6 kB a series in float64). Values and scales are kept for the
 * bins from the first one visited onwards (round the cycle), as far as the cycle has reached:
 * time moves forward, so a series seen for an hour holds an hour's bins of its week, not the
 * week's; the room grows by half again as the cycle goes on. A bin never visited reads 0, as a
 * profile filled with zeros did.
 */
export class PhaseBins {
  /** Regions of the slab: the visits (two bits a bin), and the values (float32). */
  private readonly visitCounts: number;
  /** Bin `first + i` (round the cycle) at 2i (its value) and 2i + 1 (its scale); empty before the first visit. */
  private readonly values: number;
  private first = 0;

  constructor(
    readonly count: number,
    init?: PhaseBinsState,
    /** The owner's (one buffer for all of a detector's arrays), else one of its own. */
    private readonly slab: Slab = new Slab(),
  ) {
    this.visitCounts = slab.alloc((count + 3) >> 2);
    this.values = slab.alloc(0);
    if (init) {
      for (let b = 0; b < count; b++) {
        const visits = init.visits[b] ?? 0;
        if (visits > 0) this.set(b, init.season[b] ?? 0, init.scale[b] ?? 0, visits);
      }
    }
  }

  visits(b: number): number {
    return (this.slab.u8[this.slab.at(this.visitCounts) + (b >> 2)]! >> ((b & 3) << 1)) & MAX_VISITS;
  }

  season(b: number): number {
    const i = this.offset(b);
    return 2 * i < this.held ? this.slab.f32[this.base + 2 * i]! : 0;
  }

  scale(b: number): number {
    const i = this.offset(b);
    return 2 * i < this.held ? this.slab.f32[this.base + 2 * i + 1]! : 0;
  }

  /** Bin b's new profile value and scale, after one more visit. */
  visit(b: number, season: number, scale: number): void {
    this.set(b, season, scale, this.visits(b) + 1);
  }

  /** Floats of values and scales held. */
  private get held(): number {
    return this.slab.bytes(this.values) >> 2;
  }

  /** Index of the first value in the slab's float32 view. */
  private get base(): number {
    return this.slab.at(this.values) >> 2;
  }

  /** Bins from the first one held up to b, round the cycle. */
  private offset(b: number): number {
    return b >= this.first ? b - this.first : b - this.first + this.count;
  }

  private set(b: number, season: number, scale: number, visits: number): void {
    if (this.held === 0) this.first = b;
    const i = this.offset(b);
    if (2 * i >= this.held) {
      const room = this.held >> 1;
      this.slab.resize(this.values, 4 * 2 * Math.min(this.count, Math.max(MIN_ROOM, i + 1, room + (room >> 1))));
    }
    const values = this.slab.f32;
    values[this.base + 2 * i] = season;
    values[this.base + 2 * i + 1] = scale;
    const u8 = this.slab.u8;
    const at = this.slab.at(this.visitCounts) + (b >> 2);
    const shift = (b & 3) << 1;
    u8[at] = (u8[at]! & ~(MAX_VISITS << shift)) | (Math.min(MAX_VISITS, visits) << shift);
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
