/**
 * A small, fast, seedable PRNG (sfc32, from PractRand) so a seed replays the same fleet, readings
 * and anomalies on every machine. `fork` derives an independent stream per device and metric, so
 * adding a device does not change the readings of the others.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number | string) {
    // Seed expansion with splitmix32 over a string hash.
    let h = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
    const next = (): number => {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const s = this.spareNormal;
      this.spareNormal = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An independent stream named by `label`. */
  fork(label: string): Rng {
    return new Rng(`${this.a}:${this.b}:${label}`);
  }
}

/** Cumulative weights of a mix, for `pickWeighted`; entries with weight 0 (or not `allowed`) are left out. */
export function cumulative<K extends string>(
  mix: Partial<Record<K, number>>,
  allowed: (k: K) => boolean = () => true,
): Array<[K, number]> {
  const entries = (Object.entries(mix) as Array<[K, number]>).filter(([k, w]) => w > 0 && allowed(k));
  const total = entries.reduce((n, [, w]) => n + w, 0);
  let c = 0;
  return entries.map(([k, w]) => [k, (c += w) / total]);
}

/** Draws from cumulative weights made by `cumulative`. */
export function pickWeighted<K>(rng: Rng, weights: ReadonlyArray<readonly [K, number]>): K {
  const x = rng.next();
  for (const [k, c] of weights) if (x < c) return k;
  return weights[weights.length - 1]![0];
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
