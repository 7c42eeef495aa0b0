import type { DetectionConfig } from '@tributary/firmware-schemas';
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

/** Thrown when the processor config names an unknown detector or gives it bad settings. */
export class DetectorConfigError extends Error {
  readonly code = 'DETECTOR_CONFIG';
}

/**
 * A factory for per-series detectors from the processor config's `detection` section, validated
 * once (call it at start, before any point arrives). The legacy keys (historyWindows,
 * warmupWindows, zThreshold) apply to `robust-zscore`, under any `settings` given for it.
 */
export function detectorFactoryFromConfig(detection: DetectionConfig): (snapshot?: unknown) => Detector {
  const name = detection.detector;
  if (!Object.hasOwn(detectors, name)) {
    throw new DetectorConfigError(`detection.detector: unknown detector ${JSON.stringify(name)} (known: ${Object.keys(detectors).join(', ')})`);
  }
  const legacy = name === 'robust-zscore' ? { historyWindows: detection.historyWindows, warmupWindows: detection.warmupWindows, zThreshold: detection.zThreshold } : {};
  const entry = detectors[name as DetectorName] as { config: { safeParse(x: unknown): { success: boolean; data?: unknown; error?: { issues: { path: PropertyKey[]; message: string }[] } } }; create: DetectorFactory<unknown> };
  const parsed = entry.config.safeParse({ ...legacy, ...detection.settings });
  if (!parsed.success) {
    const issues = (parsed.error?.issues ?? []).map((i) => `detection.settings.${i.path.map(String).join('.')}: ${i.message}`);
    throw new DetectorConfigError(issues.join('; '));
  }
  const config = parsed.data;
  return (snapshot) => entry.create(config, snapshot);
}
