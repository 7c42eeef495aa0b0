import { ProcessorConfigSchema, type ProcessorConfig } from '@tributary/firmware-schemas';
import type { SkabRun } from './data.js';
import { playRun, scoredRun, type LiveRun } from './run.js';
import { binaryScore, changepointScore, type BinaryScore, type ChangepointScore, type SkabScoredRun } from './score.js';

export interface SkabFigures {
  readonly binary: BinaryScore;
  readonly changepoint: ChangepointScore;
}

export const figuresOf = (runs: readonly SkabScoredRun[]): SkabFigures => ({
  binary: binaryScore(runs),
  changepoint: changepointScore(runs),
});

/** Sensitivities tried when one is fitted (the only knob of the live decision a user turns): factors of √2 around 1. */
export const SENSITIVITY_GRID = [0.25, 0.35, 0.5, 0.71, 1, 1.41, 2, 2.83, 4] as const;

/** The leaderboard's best false-alarm rate at F1 0.78 (Conv-AE): a fitted sensitivity must keep under it. */
export const FAR_LIMIT = 13.5;

/**
 * The fitting rule for a sensitivity: the best F1 among those whose false-alarm rate stays under
 * FAR_LIMIT (F1 alone would favour flagging everything), else the lowest false-alarm rate.
 */
export function better(a: SkabFigures, b: SkabFigures): boolean {
  const okA = a.binary.far <= FAR_LIMIT;
  const okB = b.binary.far <= FAR_LIMIT;
  if (okA !== okB) return okA;
  return okA ? a.binary.f1Raw > b.binary.f1Raw : a.binary.far < b.binary.far;
}

export const withSensitivity = (config: ProcessorConfig, sensitivity: number): ProcessorConfig => ({
  ...config,
  detection: { ...config.detection, sensitivity },
});

/** Every run played live at each sensitivity of the grid (index-aligned with SENSITIVITY_GRID). */
export function playGrid(
  runs: readonly SkabRun[],
  config: ProcessorConfig = ProcessorConfigSchema.parse({}),
): LiveRun[][] {
  return SENSITIVITY_GRID.map((s) => runs.map((r) => playRun(r, withSensitivity(config, s))));
}

/** The grid index that fits the given runs best (by `better`), and its figures. */
function fit(
  grid: readonly LiveRun[][],
  pick: (k: number) => boolean,
  metrics?: readonly string[],
): { index: number; figures: SkabFigures } {
  let best: { index: number; figures: SkabFigures } | undefined;
  grid.forEach((played, index) => {
    const figures = figuresOf(played.filter((_, k) => pick(k)).map((l) => scoredRun(l, metrics)));
    if (!best || better(figures, best.figures)) best = { index, figures };
  });
  return best!;
}

export interface SplitHalf {
  /** The sensitivity fitted on all runs, and its (in-sample) figures. */
  readonly inSample: { sensitivity: number; figures: SkabFigures };
  /** Each half's runs judged at the sensitivity fitted on the other half, pooled. */
  readonly crossValidated: { sensitivities: [number, number]; figures: SkabFigures };
}

/**
 * Split-half validation of the live decision's one fitted constant: the runs are split in two
 * halves (even and odd positions in file order), the sensitivity is fitted on one half and applied
 * to the other, both ways, and the predictions pooled. `metrics`: which alerts make the prediction
 * (scoredRun).
 */
export function splitHalf(grid: readonly LiveRun[][], metrics?: readonly string[]): SplitHalf {
  const all = fit(grid, () => true, metrics);
  const even = fit(grid, (k) => k % 2 === 0, metrics);
  const odd = fit(grid, (k) => k % 2 === 1, metrics);
  const pooled = grid[0]!.map((_, k) => scoredRun(grid[k % 2 === 0 ? odd.index : even.index]![k]!, metrics));
  return {
    inSample: { sensitivity: SENSITIVITY_GRID[all.index]!, figures: all.figures },
    crossValidated: {
      sensitivities: [SENSITIVITY_GRID[odd.index]!, SENSITIVITY_GRID[even.index]!],
      figures: figuresOf(pooled),
    },
  };
}
