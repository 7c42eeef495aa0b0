import type { TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';

/**
 * Every fuzz run is bounded and reproducible: a fixed seed, a fixed number of cases and a time
 * budget, and it prints how many cases it ran. `npm test` runs the short default; a longer run:
 *
 *   TRIBUTARY_FUZZ_RUNS=20000 node --test test/dist/fuzz/*.test.js
 *
 * (each property then runs that many cases, with a time budget grown in proportion), and
 * TRIBUTARY_FUZZ_SEED=<n> replays another seed.
 */
export interface FuzzBounds {
  /** Cases in `npm test`. */
  readonly runs: number;
  /** Wall-clock budget in `npm test`: past it the run stops early (and says so). */
  readonly budgetMs: number;
}

const envInt = (name: string): number | undefined => {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return n;
};

export const fuzzSeed: number = envInt('TRIBUTARY_FUZZ_SEED') ?? 20_240_521;

/** Cases and budget of this run: the defaults, or TRIBUTARY_FUZZ_RUNS cases with the budget scaled to match. */
export function fuzzBounds(defaults: FuzzBounds): FuzzBounds {
  const runs = envInt('TRIBUTARY_FUZZ_RUNS');
  if (runs === undefined) return defaults;
  return { runs, budgetMs: Math.ceil(defaults.budgetMs * Math.max(1, runs / defaults.runs)) };
}

/** A node:test timeout that leaves room for a run of these bounds. */
export const fuzzTimeout = (defaults: FuzzBounds, extraMs = 60_000): number =>
  fuzzBounds(defaults).budgetMs * 2 + extraMs;

/**
 * Checks `property` with fast-check within the bounds (shrinking a failure to its smallest case),
 * prints the cases run as a test diagnostic, and fails the test with fast-check's report.
 */
export async function fuzzProperty<T>(
  t: TestContext,
  name: string,
  defaults: FuzzBounds,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => void | boolean | Promise<void> | Promise<boolean>,
): Promise<number> {
  const { runs, budgetMs } = fuzzBounds(defaults);
  const started = Date.now();
  const details = await fc.check(
    fc.asyncProperty(arbitrary, async (v) => predicate(v)),
    { numRuns: runs, seed: fuzzSeed, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false },
  );
  t.diagnostic(
    `fuzz ${name}: ${details.numRuns} cases${details.interrupted ? ` (stopped at the ${budgetMs} ms budget)` : ''} in ${Date.now() - started} ms, seed ${fuzzSeed}`,
  );
  if (details.failed) throw new Error(`fuzz ${name} failed:\n${fc.defaultReportMessage(details)}`);
  return details.numRuns;
}

/**
 * Cases for a fuzz run against a server over sockets: drawn by fast-check from `arbitrary` with
 * the run's seed (no shrinking: a failing case is printed whole, with the seed, to replay).
 */
export function fuzzCases<T>(arbitrary: fc.Arbitrary<T>, runs: number, salt = 0): T[] {
  return fc.sample(arbitrary, { numRuns: runs, seed: fuzzSeed + salt });
}

/** V8's collector, made callable in this process (node --expose-gc, set at run time). */
let collect: (() => void) | undefined;

/**
 * Bytes held after a full collection: the heap and the ArrayBuffers (Buffers) it keeps. Unlike
 * resident memory, which the allocator does not give back at once, this falls back when garbage
 * is collected, so growth across a fuzz run is what the process holds on to.
 */
export function heldBytes(): number {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
