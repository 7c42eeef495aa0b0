import type { Detector, DetectorFactory } from './detector.js';
import { createEnsemble, EnsembleConfig } from './ensemble.js';
import { createEwma, EwmaConfig } from './ewma.js';
import { createFlatline, FlatlineConfig } from './flatline.js';
import { createMissing, MissingConfig } from './missing.js';
import { createNovelty, NoveltyConfig } from './novelty.js';
import { createRateOfChange, RateOfChangeConfig } from './rate-of-change.js';
import { createRobustZScore, RobustZScoreConfig } from './robust-zscore.js';
import { createSeasonal, SeasonalConfig } from './seasonal.js';
import { createStaticThreshold, StaticThresholdConfig } from './static-threshold.js';
import { createVolatility, VolatilityConfig } from './volatility.js';

/** Every detector by name: its config schema (with defaults) and its factory. */
export const detectors = {
  ensemble: { config: EnsembleConfig, create: createEnsemble as DetectorFactory<EnsembleConfig> },
  'robust-zscore': { config: RobustZScoreConfig, create: createRobustZScore as DetectorFactory<RobustZScoreConfig> },
  ewma: { config: EwmaConfig, create: createEwma as DetectorFactory<EwmaConfig> },
  seasonal: { config: SeasonalConfig, create: createSeasonal as DetectorFactory<SeasonalConfig> },
  'rate-of-change': { config: RateOfChangeConfig, create: createRateOfChange as DetectorFactory<RateOfChangeConfig> },
  flatline: { config: FlatlineConfig, create: createFlatline as DetectorFactory<FlatlineConfig> },
  missing: { config: MissingConfig, create: createMissing as DetectorFactory<MissingConfig> },
  volatility: { config: VolatilityConfig, create: createVolatility as DetectorFactory<VolatilityConfig> },
  'static-threshold': { config: StaticThresholdConfig, create: createStaticThreshold as DetectorFactory<StaticThresholdConfig> },
  novelty: { config: NoveltyConfig, create: createNovelty as DetectorFactory<NoveltyConfig> },
} as const;

export type DetectorName = keyof typeof detectors;

/** The default detector for a series: the ensemble with its defaults. */
export const DEFAULT_DETECTOR: DetectorName = 'ensemble';

/** Builds a detector by name from a raw config object (validated, defaults filled in). */
export function createDetector(name: DetectorName, config: unknown = {}, snapshot?: unknown): Detector {
  const entry = detectors[name] as { config: { parse(x: unknown): unknown }; create: DetectorFactory<unknown> };
  return entry.create(entry.config.parse(config), snapshot);
}
