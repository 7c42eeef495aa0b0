import { DetectionConfig } from '@tributary/firmware-schemas';
import type { z } from 'zod';
import { scoreFromRatio, type Detector, type DetectorFactory, type SeriesPoint, type Verdict } from './detector.js';
import { medianAndMad, RollingWindow } from './rolling-window.js';

/** Its settings live in the processor config (`detection`), owned by firmware-schemas. */
export const RobustZScoreConfig = DetectionConfig;
export type RobustZScoreConfig = z.output<typeof DetectionConfig>;

/** 1.4826 · MAD estimates the standard deviation of normally distributed data. */
const MAD_TO_SIGMA = 1.4826;

/**
 * Robust z-score: how many robust standard deviations a point's mean, max and min each lie from
 * the median of the same field over the last `historyWindows` points. Looking at max and min as
 * well as the mean catches a single-reading spike inside a window, which barely moves the mean.
 * A slow trend (a daily cycle) stays near z ≈ 1.35 however steep, because the MAD grows with it.
 */
class RobustZScore implements Detector {
  private readonly fields: Record<'value' | 'max' | 'min', RollingWindow>;

  constructor(private readonly config: RobustZScoreConfig, snapshot?: unknown) {
    const s = snapshot as Record<'value' | 'max' | 'min', ReturnType<RollingWindow['snapshot']>> | undefined;
    const n = config.historyWindows;
    this.fields = { value: new RollingWindow(n, s?.value), max: new RollingWindow(n, s?.max), min: new RollingWindow(n, s?.min) };
  }

  update(point: SeriesPoint): Verdict {
    let best: Verdict = { score: 0, value: point.value, reason: 'warming up' };
    for (const field of ['value', 'max', 'min'] as const) {
      const history = this.fields[field];
      const x = point[field];
      if (history.length >= this.config.warmupWindows) {
        const { median, mad } = medianAndMad(history.toArray());
        // A perfectly flat history has MAD 0: floor the scale so quantisation steps are not infinite z.
        const scale = Math.max(MAD_TO_SIGMA * mad, 1e-6 * Math.max(1, Math.abs(median)));
        const z = Math.abs(x - median) / scale;
        const score = scoreFromRatio(z / this.config.zThreshold);
        if (score > best.score) {
          const name = field === 'value' ? 'mean' : field;
          best = { score, value: x, reason: `${name} ${x.toPrecision(4)} is ${z.toFixed(1)} robust σ from the median ${median.toPrecision(4)}` };
        }
      }
      history.push(x);
    }
    return best;
  }

  snapshot(): unknown {
    return { value: this.fields.value.snapshot(), max: this.fields.max.snapshot(), min: this.fields.min.snapshot() };
  }
}

export const createRobustZScore: DetectorFactory<RobustZScoreConfig> = (config, snapshot) => new RobustZScore(config, snapshot);
