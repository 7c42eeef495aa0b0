import type { DetectorFactory } from './detector.js';
import { createEnsemble, EnsembleConfig } from './ensemble.js';
import { createEwma, EwmaConfig } from './ewma.js';
import { createNovelty, NoveltyConfig } from './novelty.js';
import { createRobustZScore, RobustZScoreConfig } from './robust-zscore.js';
import { createSeasonal, SeasonalConfig } from './seasonal.js';

/** Every detector by name: its config schema (with defaults) and its factory. */
export const detectors = {
  'robust-zscore': { config: RobustZScoreConfig, create: createRobustZScore as DetectorFactory<RobustZScoreConfig> },
  ewma: { config: EwmaConfig, create: createEwma as DetectorFactory<EwmaConfig> },
  seasonal: { config: SeasonalConfig, create: createSeasonal as DetectorFactory<SeasonalConfig> },
  novelty: { config: NoveltyConfig, create: createNovelty as DetectorFactory<NoveltyConfig> },
  ensemble: { config: EnsembleConfig, create: createEnsemble as DetectorFactory<EnsembleConfig> },
} as const;

export type DetectorName = keyof typeof detectors;
