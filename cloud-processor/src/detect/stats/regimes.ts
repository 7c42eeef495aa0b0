/** One level a series lives at (a machine off, a machine running): where, and how noisy there. */
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

/** Windows at a level before it counts as a known level of the series. */
const ESTABLISHED = 6;
/** A value belongs to a level when within this many of its sigmas (or of the floor below). */
const BAND_SIGMAS = 6;
const ALPHA = 0.05;

/**
 * The few levels a series alternates between, learnt online from its calm windows: a machine's
 * vibration at rest and running, a pump's current off and on. Moving between two known levels,
 * or a window that straddles them, is the series' normal life, not a fault; a jump to a level
 * never seen is. Bounded: at most `max` levels, the least recently visited replaced first.
 */
export interface RegimesState {
  levels: Regime[];
  switches: string[];
  nextId: number;
}

/** Switches remembered between levels (pairs); the oldest is forgotten beyond this. */
const MAX_SWITCHES = 16;

export class Regimes {
  readonly levels: Regime[];
  /** Pairs of levels the series has jumped between before (`a-b`, a < b): a machine's on/off. */
  private readonly switches: Set<string>;
  private nextId: number;

  constructor(
    private readonly max = 4,
    init?: RegimesState,
  ) {
    this.levels = init ? init.levels.map((r) => ({ ...r })) : [];
    this.switches = new Set(init?.switches ?? []);
    this.nextId = init?.nextId ?? 0;
  }

  /** Whether the series has switched between these two levels before. */
  knownSwitch(a: Regime, b: Regime): boolean {
    return this.switches.has(pairKey(a, b));
  }

  /** Remembers a jump between two levels, so the next one is the series' normal life. */
  learnSwitch(a: Regime, b: Regime): void {
    const key = pairKey(a, b);
    this.switches.delete(key);
    this.switches.add(key);
    if (this.switches.size > MAX_SWITCHES) this.switches.delete(this.switches.values().next().value as string);
  }

  snapshot(): RegimesState {
    return { levels: this.levels.map((r) => ({ ...r })), switches: [...this.switches], nextId: this.nextId };
  }

  /** The known level `x` lies in, if any (`floor`: the least band width, from the series' noise). */
  knownLevelOf(x: number, floor: number): Regime | undefined {
    let best: Regime | undefined;
    let bestD = Infinity;
    for (const r of this.levels) {
      if (r.visits < ESTABLISHED) continue;
      const d = Math.abs(x - r.center);
      if (d <= Math.max(BAND_SIGMAS * r.sigma, floor) && d < bestD) {
        best = r;
        bestD = d;
      }
    }
    return best;
  }

  /**
   * Learns from a calm window (its spread no larger than usual somewhere): joins the nearest level
   * when within its band, else starts a new one. Returns the level it joined or started.
   */
  learn(mean: number, stddev: number, index: number, floor: number): Regime {
    let nearest: Regime | undefined;
    let nearestD = Infinity;
    for (const r of this.levels) {
      const d = Math.abs(mean - r.center);
      if (d < nearestD) {
        nearest = r;
        nearestD = d;
      }
    }
    if (nearest && nearestD <= Math.max(BAND_SIGMAS * nearest.sigma, floor)) {
      nearest.center += ALPHA * (mean - nearest.center);
      nearest.sigma += ALPHA * (stddev - nearest.sigma);
      nearest.visits++;
      nearest.last = index;
      return nearest;
    }
    const level: Regime = {
      id: this.nextId++,
      center: mean,
      sigma: Math.max(stddev, floor / BAND_SIGMAS),
      visits: 1,
      last: index,
    };
    if (this.levels.length >= this.max) {
      let oldest = 0;
      for (let i = 1; i < this.levels.length; i++) if (this.levels[i]!.last < this.levels[oldest]!.last) oldest = i;
      this.levels.splice(oldest, 1);
    }
    this.levels.push(level);
    return level;
  }
}

function pairKey(a: Regime, b: Regime): string {
  return a.id < b.id ? `${a.id}-${b.id}` : `${b.id}-${a.id}`;
}
