/** A run's timed part: the windows it carried and how long it took. */
export interface Rate {
  readonly windows: number;
  readonly seconds: number;
}

/** Windows per second of a run's timed part. */
export const rateOf = (f: Rate): number => f.windows / f.seconds;

/** A figure to one decimal. */
export const round1 = (x: number): number => Math.round(x * 10) / 10;

/** CPU µs per window, to one decimal. */
export const us = (cpuSeconds: number, windows: number): number => round1((cpuSeconds * 1e6) / windows);

export const MB = 1024 * 1024;
