import { DetectionConfig } from '@tributary/firmware-schemas';
import type { z } from 'zod';
import { scoreFromRatio, type Detector, type DetectorFactory, type SeriesPoint, type Verdict } from './detector.js';
import { medianAndMad, RollingWindow } from './rolling-window.js';

/** Its settings live in the processor config (`detection`), owned by firmware-schemas. */
export const RobustZScoreConfig = DetectionConfig;
export type RobustZScoreConfig = z.output<typeof DetectionConfig>;

/** 1.4826 · MAD estimates the standard deviation of normally distributed data. */
const MAD_TO_SIGMA = 1.4826;

type Feature = 'rise' | 'drop' | 'step';

/** What each feature measures, for the verdict's reason. */
const FEATURE_TEXT: Record<Feature, string> = {
  rise: 'max above the window mean',
  drop: 'min below the window mean',
  step: 'change of the mean from the previous window',
};

/**
 * Robust z-score over three features of each point, each against its own median and MAD over the
 * last `historyWindows` points:
 * - rise = max − mean and drop = mean − min: a single-reading spike or dip inside a window moves
 *   these a lot and the mean hardly at all;
 * - step = mean − previous mean: a level shift.
 * None of them follows the level itself, so a daily cycle (a slow trend) is not an anomaly; for
 * raw rows (min = max = mean) only `step` carries information.
 */
class RobustZScore implements Detector {
  private readonly history: Record<Feature, RollingWindow>;
  private previous: number | undefined;

  constructor(private readonly config: RobustZScoreConfig, snapshot?: unknown) {
    const s = snapshot as { history?: Record<Feature, ReturnType<RollingWindow['snapshot']>>; previous?: number } | undefined;
    const n = config.historyWindows;
    this.history = { rise: new RollingWindow(n, s?.history?.rise), drop: new RollingWindow(n, s?.history?.drop), step: new RollingWindow(n, s?.history?.step) };
    this.previous = s?.previous;
  }

  update(point: SeriesPoint): Verdict {
    const features: Partial<Record<Feature, number>> = { rise: point.max - point.value, drop: point.value - point.min };
    if (this.previous !== undefined) features.step = point.value - this.previous;
    this.previous = point.value;
    let best: Verdict = { score: 0, value: point.value, reason: 'warming up' };
    for (const feature of ['rise', 'drop', 'step'] as const) {
      const x = features[feature];
      if (x === undefined) continue;
      const history = this.history[feature];
      if (history.length >= this.config.warmupWindows) {
        const { median, mad } = medianAndMad(history.toArray());
        const deviation = Math.abs(x - median);
        // A flat history has MAD 0; a tiny floor keeps identical values at z = 0, not 0/0.
        const scale = Math.max(MAD_TO_SIGMA * mad, 1e-9 * Math.max(1, Math.abs(median)));
        const z = deviation === 0 ? 0 : deviation / scale;
        const score = scoreFromRatio(z / this.config.zThreshold);
        if (score > best.score) {
          const value = feature === 'rise' ? point.max : feature === 'drop' ? point.min : point.value;
          best = { score, value, reason: `${FEATURE_TEXT[feature]} is ${x.toPrecision(3)}, ${z.toFixed(1)} robust σ from its median ${median.toPrecision(3)}` };
        }
      }
      history.push(x);
    }
    return best;
  }

  snapshot(): unknown {
    return { history: { rise: this.history.rise.snapshot(), drop: this.history.drop.snapshot(), step: this.history.step.snapshot() }, previous: this.previous };
  }
}

export const createRobustZScore: DetectorFactory<RobustZScoreConfig> = (config, snapshot) => new RobustZScore(config, snapshot);
