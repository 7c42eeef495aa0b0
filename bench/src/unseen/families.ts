/**
 * Anomaly-free series of shapes the development sets (../shared/nab, ../shared/skab) lack, seeded.
 * Every alert on them is a false alarm. Their parameters were chosen once, from what such data
 * looks like in public sources (NAB's realTweets, realAWSCloudwatch and realAdExchange folders'
 * descriptions, CloudWatch's metric docs, common sensor resolutions), before any detector ran on
 * them; they are never tuned to make the detectors look good. None is built to be easy: each has
 * the trait that hurt on unseen data (discreteness, zeros, heavy tails, persisting regime steps,
 * few points, gaps).
 */
import { gaussian, prng } from '@tributary/cloud-processor';

export interface Row {
  readonly ts: number;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  /** What it stands for, printed beside its figure. */
  readonly about: string;
  /** One anomaly-free series for a seed. */
  readonly series: (seed: number) => Row[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A Monday, 00:00 UTC: the series start at midnight as exported metrics do. */
const START = Date.UTC(2026, 0, 5);

/** Smooth daily shape in [0, 1]: low at night (04:00), high in the afternoon (16:00). */
const daily = (ts: number): number => 0.5 - 0.5 * Math.cos((2 * Math.PI * (((ts - START) % DAY) - 4 * HOUR)) / DAY);
const weekend = (ts: number): boolean => {
  const d = new Date(ts).getUTCDay();
  return d === 0 || d === 6;
};

/** Poisson deviate of mean m (Knuth's product for small means, a rounded normal for large ones). */
function poisson(rand: () => number, normal: () => number, m: number): number {
  if (m > 50) return Math.max(0, Math.round(m + Math.sqrt(m) * normal()));
  const l = Math.exp(-m);
  let k = 0;
  let p = rand();
  while (p > l) {
    k++;
    p *= rand();
  }
  return k;
}

/** Gamma(shape k, mean 1) deviate for k ≥ 1 (Marsaglia–Tsang): the mixing law of a negative binomial. */
function gammaMeanOne(rand: () => number, normal: () => number, k: number): number {
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal();
    const v = (1 + c * x) ** 3;
    if (v > 0 && Math.log(rand()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / k;
  }
}

/** A mean-reverting wander (AR(1) per step, stationary σ `sd`, time constant `tauSteps`). */
function ar1(normal: () => number, sd: number, tauSteps: number): () => number {
  const phi = Math.exp(-1 / tauSteps);
  const e = sd * Math.sqrt(1 - phi * phi);
  let x = sd * normal();
  return () => (x = phi * x + e * normal());
}

export const FAMILIES: readonly Family[] = [
  {
    // Twitter mention volumes (NAB realTweets): 5-minute counts over ~8 weeks, a daily cycle, a
    // news-cycle drift of the rate (hours), overdispersed (negative binomial, shape 2), and for
    // the quieter names many zeros at night. Means of 2 to 60 mentions per 5 minutes.
    name: 'tweet counts',
    about: '5-min counts, daily cycle, NB(shape 2), zeros',
    series: (seed) => {
      const rand = prng(seed);
      const normal = gaussian(rand);
      const mean = [2, 8, 25, 60][seed % 4]!;
      const drift = ar1(normal, 0.35, 96);
      const rows: Row[] = [];
      for (let i = 0; i < 16_000; i++) {
        const ts = START + i * 5 * MINUTE;
        const m = mean * (0.25 + 1.5 * daily(ts)) * (weekend(ts) ? 0.75 : 1) * Math.exp(drift());
        rows.push({ ts, value: poisson(rand, normal, m * gammaMeanOne(rand, normal, 2)) });
      }
      return rows;
    },
  },
  {
    // Server CPU utilisation (CloudWatch EC2/RDS CPUUtilization, NAB realAWSCloudwatch): 5-minute
    // averages over two weeks; a low base with multiplicative noise, heavy-tailed spikes (a batch
    // job, a GC: ~1 % of points, Pareto α 1.5), regime steps that persist (a deploy, a resized
    // load: about one every 4 days, ±30 % typical), values on a grid of 1/15 % as tick counts give.
    name: 'server cpu',
    about: '5-min %, heavy-tailed spikes, persisting steps, 1/15 % grid',
    series: (seed) => {
      const rand = prng(seed);
      const normal = gaussian(rand);
      let base = [2, 8, 20, 45][seed % 4]!;
      const wander = ar1(normal, 0.1, 24);
      const rows: Row[] = [];
      for (let i = 0; i < 4_032; i++) {
        const ts = START + i * 5 * MINUTE;
        if (rand() < 1 / (4 * 288)) base = Math.min(80, base * Math.exp(0.3 * normal()));
        let v = base * Math.exp(wander() + 0.15 * normal());
        if (rand() < 0.01) v += base * 0.5 * rand() ** (-1 / 1.5);
        rows.push({ ts, value: Math.min(100, Math.round(v * 15) / 15) });
      }
      return rows;
    },
  },
  {
    // Network bytes / request counts (CloudWatch NetworkIn, ELB RequestCount): 5-minute sums over
    // two weeks, log-normal around a daily cycle (σ 0.5 in the log: traffic is bursty), weekends
    // lower, integer.
    name: 'network bytes',
    about: '5-min sums, log-normal σ 0.5, daily and weekly cycle',
    series: (seed) => {
      const rand = prng(seed);
      const normal = gaussian(rand);
      const scale = [3e3, 4e5, 2e7, 1e9][seed % 4]!;
      const rows: Row[] = [];
      for (let i = 0; i < 4_032; i++) {
        const ts = START + i * 5 * MINUTE;
        const m = scale * (0.3 + daily(ts)) * (weekend(ts) ? 0.6 : 1);
        rows.push({ ts, value: Math.round(m * Math.exp(0.5 * normal())) });
      }
      return rows;
    },
  },
  {
    // Ad-exchange cost per click / per mille (NAB realAdExchange): hourly, ~1,600 points (10
    // weeks), a daily cycle, log-normal noise (σ 0.15), a slowly wandering price level, about 2 %
    // of hours missing (gaps of 1-3 hours), values to 4 decimals.
    name: 'ad exchange',
    about: 'hourly, 1,600 points, daily cycle, 2 % gaps',
    series: (seed) => {
      const rand = prng(seed);
      const normal = gaussian(rand);
      const price = [0.12, 0.35, 1.1, 2.4][seed % 4]!;
      const wander = ar1(normal, 0.15, 72);
      const rows: Row[] = [];
      for (let h = 0; rows.length < 1_600; h++) {
        if (rand() < 0.02) {
          h += Math.floor(rand() * 3);
          continue;
        }
        const ts = START + h * HOUR;
        const v = price * (0.7 + 0.6 * daily(ts)) * Math.exp(wander() + 0.15 * normal());
        rows.push({ ts, value: Math.round(v * 1e4) / 1e4 });
      }
      return rows;
    },
  },
  {
    // A coarse sensor read as raw rows every 10 s for 4 days (gathered into the processor's 60 s
    // windows): room or water temperature on a 0.5 °C grid, or a meter in whole units, whose
    // noise (σ 0.3 of a step) is below its resolution, so it flips between neighbouring steps;
    // a daily swing of 4 steps and weather (an hours-long wander of 1 step).
    name: 'coarse sensor',
    about: 'raw 10-s rows on a coarse grid, noise below resolution',
    series: (seed) => {
      const rand = prng(seed);
      const normal = gaussian(rand);
      const step = [0.5, 1, 0.1, 2][seed % 4]!;
      const base = [21, 60, 4.2, 230][seed % 4]!;
      const weather = ar1(normal, 1, 6 * 360);
      const rows: Row[] = [];
      for (let i = 0; i < 4 * 8_640; i++) {
        const ts = START + i * 10_000;
        const v = base + step * (4 * daily(ts) + weather() + 0.3 * normal());
        rows.push({ ts, value: Math.round(v / step) * step });
      }
      return rows;
    },
  },
];
