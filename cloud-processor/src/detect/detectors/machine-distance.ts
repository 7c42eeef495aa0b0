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
 * The Mahalanobis distance of the standardised residuals `z` of the metrics `present` (indices into
 * the d × d `cov`), and each one's share of its square (z_a · (S⁻¹z)_a / D², which sum to 1). S is
 * the learnt correlation shrunk towards the identity by `lambda` (d / (d + observations): with few
 * observations, nearly independent).
 */
export function mahalanobis(
  cov: readonly number[],
  d: number,
  present: readonly number[],
  z: readonly number[],
  lambda: number,
): { distance: number; shares: number[] } {
  const k = present.length;
  if (k === 0) return { distance: 0, shares: [] };
  const S = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++)
      S[a * k + b] = (1 - lambda) * cov[present[a]! * d + present[b]!]! + (a === b ? lambda : 0);
  const w = solveSpd(S, z, k);
  let d2 = 0;
  for (let a = 0; a < k; a++) d2 += z[a]! * w[a]!;
  d2 = Math.max(d2, 0);
  const shares = z.map((x, a) => (d2 > 0 ? Math.max(0, (x * w[a]!) / d2) : 0));
  return { distance: Math.sqrt(d2), shares };
}

/**
 * One observation's standardised residuals `z` (of the metrics `present`) into the mean of z zᵀ,
 * counted as `share` of an observation among `n` (the share included).
 */
export function learnCorrelation(
  cov: number[],
  d: number,
  present: readonly number[],
  z: readonly number[],
  share: number,
  n: number,
): void {
  for (let a = 0; a < present.length; a++) {
    for (let b = 0; b < present.length; b++) {
      const at = present[a]! * d + present[b]!;
      cov[at] = cov[at]! + (share / n) * (z[a]! * z[b]! - cov[at]!);
    }
  }
}

/** Solves S w = z for a symmetric positive definite S (k × k, row-major) by Cholesky. */
function solveSpd(S: Float64Array, z: readonly number[], k: number): number[] {
  const L = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = S[i * k + j]!;
      for (let p = 0; p < j; p++) sum -= L[i * k + p]! * L[j * k + p]!;
      L[i * k + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / L[j * k + j]!;
    }
  }
  const y = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) {
    let sum = z[i]!;
    for (let p = 0; p < i; p++) sum -= L[i * k + p]! * y[p]!;
    y[i] = sum / L[i * k + i]!;
  }
  const w = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let p = i + 1; p < k; p++) sum -= L[p * k + i]! * w[p]!;
    w[i] = sum / L[i * k + i]!;
  }
  return w;
}
