/**
 * Scratch of the time a machine (machine.ts) judges, grown to the most metrics a device has, so a
 * window makes no arrays: the metrics present (`judged`) or held (`held`), the verdict's measure
 * (`named`) and the other measures' (`other`: only their distance is kept), the residuals as fresh
 * and as each metric is judged alone,
 * and `learn`'s own metrics and z (it runs inside `judge`, so they are its own). None outlives
 * `judge`: the verdict copies what it names; each thread is single-threaded, one device at a time.
 */

/** One measure of the first k present metrics: their standardised residuals and shares of the distance. */
export interface Measure {
  z: Float64Array;
  shares: Float64Array;
}

export const scratch = {
  judged: new Int32Array(8),
  held: new Int32Array(8),
  learnt: new Int32Array(8),
  learntZ: new Float64Array(8),
  fresh: new Float64Array(8),
  alone: new Float64Array(8),
  named: { z: new Float64Array(8), shares: new Float64Array(8) } as Measure,
  other: { z: new Float64Array(8), shares: new Float64Array(8) } as Measure,
};

/** Grows the scratch to n metrics (called by `judge` only: growing it inside would lose its measures). */
export function room(n: number): void {
  const s = scratch;
  if (s.judged.length >= n) return;
  s.judged = new Int32Array(n);
  s.held = new Int32Array(n);
  s.learnt = new Int32Array(n);
  s.learntZ = new Float64Array(n);
  s.fresh = new Float64Array(n);
  s.alone = new Float64Array(n);
  for (const m of [s.named, s.other]) {
    m.z = new Float64Array(n);
    m.shares = new Float64Array(n);
  }
}
