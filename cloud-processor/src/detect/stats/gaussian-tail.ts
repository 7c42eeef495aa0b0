/**
 * How far the farthest of n readings of Gaussian noise strays from their level, as a law: the
 * window rules use it for series whose history shows tails that light (see `ExcursionLaw`).
 */

/** P(Z > x) for a standard normal Z; relative error below 1.2e-7 (Numerical Recipes' erfcc). */
export function normalTail(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** The x with P(Z > x) = p, for 0 < p < 0.5, by bisection on the tail (60 halvings: exact to the last bits that matter). */
export function normalTailInverse(p: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (normalTail(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The excursion (largest deviation on one side, in units of σ) that n Gaussian readings pass with
 * probability p: 1 − (1 − P(Z > x))ⁿ = p.
 */
export function excursionQuantile(n: number, p: number): number {
  return normalTailInverse(-Math.expm1(Math.log1p(-p) / Math.max(1, n)));
}

/** The quantiles of one window size a check needs, computed once per size. */
export interface ExcursionLaw {
  /** Passed by one window in 10 and one in 100: what a light-tailed history is checked against. */
  readonly p90: number;
  readonly p99: number;
  /** Passed by one window in `1 / alarmP`: the alarm. */
  readonly alarm: number;
}

/** Laws by alarm rate, then by window size: a fleet has few of either. Bounded: cleared when full. */
const laws = new Map<number, Map<number, ExcursionLaw>>();
const MAX_LAWS = 256;

export function excursionLaw(n: number, alarmP: number): ExcursionLaw {
  let bySize = laws.get(alarmP);
  if (bySize === undefined) {
    if (laws.size >= MAX_LAWS) laws.clear();
    bySize = new Map();
    laws.set(alarmP, bySize);
  }
  let law = bySize.get(n);
  if (law === undefined) {
    if (bySize.size >= MAX_LAWS) bySize.clear();
    law = { p90: excursionQuantile(n, 0.1), p99: excursionQuantile(n, 0.01), alarm: excursionQuantile(n, alarmP) };
    bySize.set(n, law);
  }
  return law;
}
