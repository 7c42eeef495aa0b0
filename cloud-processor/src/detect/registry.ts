import type { DetectorFactory } from './detector.js';
import { createRobustZScore, RobustZScoreConfig } from './robust-zscore.js';

/** Every detector by name: its config schema (with defaults) and its factory. */
export const detectors = {
  'robust-zscore': { config: RobustZScoreConfig, create: createRobustZScore as DetectorFactory<RobustZScoreConfig> },
} as const;

export type DetectorName = keyof typeof detectors;
