/**
 * The machine's joint measure of its metrics' standardised residuals: their learnt correlation (a
 * row-major d × d matrix over the device's metrics, in the order they came), the Mahalanobis
 * distance under it, and how one observation updates it. Pure functions over the matrix; the
 * machine (machine.ts) owns it.
 */

/** The covariance grown by a row and a column for a new metric: it starts independent of the others. */
export function growCovariance(cov: readonly number[], d: number): number[] {
  const grown = new Array<number>((d + 1) * (d + 1)).fill(0);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) grown[r * (d + 1) + c] = cov[r * d + c]!;
  grown[d * (d + 1) + d] = 1;
  return grown;
}

/**
 * Scratch of `mahalanobis`: S, its Cholesky factor L (k × k, row-major) and the solve's vectors,
 * grown to the largest k seen. Measured twice a window for every device, they were four arrays a
 * measure; none outlives its call (each thread is single-threaded, and nothing here calls back).
 */
let S = new Float64Array(0);
let L = new Float64Array(0);
let y = new Float64Array(0);
let w = new Float64Array(0);

/**
 * The Mahalanobis distance of the standardised residuals `z` of the metrics `present` (indices into
 * the d × d `cov`), and each one's share of its square (z_a · (S⁻¹z)_a / D², which sum to 1). S is
 * the learnt correlation shrunk towards the identity by `lambda` (d / (d + observations): with few
 * observations, nearly independent).
 */
export function mahalanobis(
  cov: readonly number[],
  d: number,
  present: ArrayLike<number>,
  k: number,
  z: ArrayLike<number>,
  lambda: number,
  shares: Float64Array,
): number {
  if (k === 0) return 0;
  if (S.length < k * k) {
    S = new Float64Array(k * k);
    L = new Float64Array(k * k);
    y = new Float64Array(k);
    w = new Float64Array(k);
  }
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++)
      S[a * k + b] = (1 - lambda) * cov[present[a]! * d + present[b]!]! + (a === b ? lambda : 0);
  solveSpd(z, k);
  let d2 = 0;
  for (let a = 0; a < k; a++) d2 += z[a]! * w[a]!;
  d2 = Math.max(d2, 0);
  for (let a = 0; a < k; a++) shares[a] = d2 > 0 ? Math.max(0, (z[a]! * w[a]!) / d2) : 0;
  return Math.sqrt(d2);
}

/**
 * One observation's standardised residuals `z` (of the first k metrics of `present`) into the mean of z zᵀ,
 * counted as `share` of an observation among `n` (the share included).
 */
export function learnCorrelation(
  cov: number[],
  d: number,
  present: ArrayLike<number>,
  k: number,
  z: ArrayLike<number>,
  share: number,
  n: number,
): void {
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const at = present[a]! * d + present[b]!;
      cov[at] = cov[at]! + (share / n) * (z[a]! * z[b]! - cov[at]!);
    }
  }
}

/** Solves S w = z (into `w`) for the symmetric positive definite S (k × k, row-major) by Cholesky. */
function solveSpd(z: ArrayLike<number>, k: number): void {
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = S[i * k + j]!;
      for (let p = 0; p < j; p++) sum -= L[i * k + p]! * L[j * k + p]!;
      L[i * k + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / L[j * k + j]!;
    }
  }
  for (let i = 0; i < k; i++) {
    let sum = z[i]!;
    for (let p = 0; p < i; p++) sum -= L[i * k + p]! * y[p]!;
    y[i] = sum / L[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let p = i + 1; p < k; p++) sum -= L[p * k + i]! * w[p]!;
    w[i] = sum / L[i * k + i]!;
  }
}
