/** A seasonal profile's bins as a snapshot holds them: one entry per bin. */
export interface PhaseBinsState {
  season: number[];
  scale: number[];
  visits: number[];
}

/** Bins allocated together: a block is one typed array (its profile values, then its scales). */
const BLOCK = 24;
/** Visits are told apart as 0, 1 and 2 or more: counting stops here (a byte a bin). */
const MAX_VISITS = 255;

/**
 * A seasonal profile's state per phase bin: the profile's value, the usual residual there (its
 * scale) and how often the bin was visited. In typed arrays, and a block of bins allocated only
 * when the cycle first reaches it: a series seen for an hour holds an hour's bins of its week, not
 * the week's. A bin never visited reads 0, as a profile filled with zeros did.
 */
export class PhaseBins {
  private readonly visitCounts: Uint8Array;
  private readonly blocks: (Float64Array | undefined)[];

  constructor(
    readonly count: number,
    init?: PhaseBinsState,
  ) {
    this.visitCounts = new Uint8Array(count);
    this.blocks = new Array<Float64Array | undefined>(Math.ceil(count / BLOCK)).fill(undefined);
    if (init) {
      for (let b = 0; b < count; b++) {
        const visits = init.visits[b] ?? 0;
        if (visits > 0) this.set(b, init.season[b] ?? 0, init.scale[b] ?? 0, visits);
      }
    }
  }

  visits(b: number): number {
    return this.visitCounts[b]!;
  }

  season(b: number): number {
    const block = this.blocks[(b / BLOCK) | 0];
    return block === undefined ? 0 : block[b % BLOCK]!;
  }

  scale(b: number): number {
    const block = this.blocks[(b / BLOCK) | 0];
    return block === undefined ? 0 : block[BLOCK + (b % BLOCK)]!;
  }

  /** Bin b's new profile value and scale, after one more visit. */
  visit(b: number, season: number, scale: number): void {
    this.set(b, season, scale, this.visitCounts[b]! + 1);
  }

  private set(b: number, season: number, scale: number, visits: number): void {
    const k = (b / BLOCK) | 0;
    const block = (this.blocks[k] ??= new Float64Array(2 * BLOCK));
    block[b % BLOCK] = season;
    block[BLOCK + (b % BLOCK)] = scale;
    this.visitCounts[b] = Math.min(MAX_VISITS, visits);
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
