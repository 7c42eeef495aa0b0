import type { DetectionConfig } from '@tributary/firmware-schemas';
// Not the package's index: this module runs in every detection worker thread (shards/pool.ts).
import { unknownKeys } from '@tributary/firmware-schemas/unknown-keys';
import type { z } from 'zod';
import type { Detector, DetectorContext, DetectorFactory } from './detector.js';
import { createEnsemble, EnsembleConfig } from './detectors/ensemble.js';
import { createDrift, DriftConfig } from './detectors/drift.js';
import { createEwma, EwmaConfig } from './detectors/ewma.js';
import { createFlatline, FlatlineConfig } from './detectors/flatline.js';
import { createMachine, MachineConfig, type DeviceDetector } from './detectors/machine.js';
import { createMissing, MissingConfig } from './detectors/missing.js';
import { createNovelty, NoveltyConfig } from './detectors/novelty.js';
import { createRateOfChange, RateOfChangeConfig } from './detectors/rate-of-change.js';
import { createRobustZScore, RobustZScoreConfig } from './detectors/robust-zscore.js';
import { createSeasonal, SeasonalConfig } from './detectors/seasonal.js';
import { createShift, ShiftConfig } from './detectors/shift.js';
import { createStaticThreshold, StaticThresholdConfig } from './detectors/static-threshold.js';
import { createVolatility, VolatilityConfig } from './detectors/volatility.js';
import { createWindowRules, WindowRulesConfig } from './detectors/window-rules.js';

/** Every detector by name: its config schema (with defaults) and its factory. */
export const detectors = {
  ensemble: { config: EnsembleConfig, create: createEnsemble as DetectorFactory<EnsembleConfig> },
  'robust-zscore': { config: RobustZScoreConfig, create: createRobustZScore as DetectorFactory<RobustZScoreConfig> },
  ewma: { config: EwmaConfig, create: createEwma as DetectorFactory<EwmaConfig> },
  shift: { config: ShiftConfig, create: createShift as DetectorFactory<ShiftConfig> },
  seasonal: { config: SeasonalConfig, create: createSeasonal as DetectorFactory<SeasonalConfig> },
  'rate-of-change': { config: RateOfChangeConfig, create: createRateOfChange as DetectorFactory<RateOfChangeConfig> },
  flatline: { config: FlatlineConfig, create: createFlatline as DetectorFactory<FlatlineConfig> },
  missing: { config: MissingConfig, create: createMissing as DetectorFactory<MissingConfig> },
  volatility: { config: VolatilityConfig, create: createVolatility as DetectorFactory<VolatilityConfig> },
  'static-threshold': {
    config: StaticThresholdConfig,
    create: createStaticThreshold as DetectorFactory<StaticThresholdConfig>,
  },
  novelty: { config: NoveltyConfig, create: createNovelty as DetectorFactory<NoveltyConfig> },
  'window-rules': { config: WindowRulesConfig, create: createWindowRules as DetectorFactory<WindowRulesConfig> },
  drift: { config: DriftConfig, create: createDrift as DetectorFactory<DriftConfig> },
} as const;

export type DetectorName = keyof typeof detectors;

/** Every device detector by name (a device's metrics judged together): config schema and factory. */
export const deviceDetectors = {
  machine: {
    config: MachineConfig,
    create: createMachine as (config: MachineConfig, snapshot?: unknown) => DeviceDetector,
  },
} as const;

export type DeviceDetectorName = keyof typeof deviceDetectors;

/** A validated device detector: how to build one per device. */
export interface DevicePlan {
  readonly name: DeviceDetectorName;
  create(snapshot?: unknown): DeviceDetector;
}

/** Every metric's plan (called with the metric's name), and the devices' plan unless `devices.detector` is `none`. */
export type DetectionPlans = ((metric: string) => DetectorPlan) & { readonly device?: DevicePlan };

/** The default detector for a series: the ensemble with its defaults. */
export const DEFAULT_DETECTOR: DetectorName = 'ensemble';

/** Builds a detector by name from a raw config object (validated, defaults filled in). */
export function createDetector(
  name: DetectorName,
  config: unknown = {},
  snapshot?: unknown,
  context?: DetectorContext,
): Detector {
  const entry = detectors[name] as { config: { parse(x: unknown): unknown }; create: DetectorFactory<unknown> };
  return entry.create(entry.config.parse(config), snapshot, context);
}

/** Thrown when the processor config names an unknown detector or gives it bad settings. */
export class DetectorConfigError extends Error {
  readonly code = 'DETECTOR_CONFIG';
}

/** A validated detector choice for one metric: how to build its detectors and how readily to alert. */
export interface DetectorPlan {
  readonly name: DetectorName;
  readonly sensitivity: number;
  /** A series' detector, resumed from `snapshot` if given, its horizons converted with the series' window length. */
  create(snapshot?: unknown, context?: DetectorContext): Detector;
}

type Entry = {
  config: {
    safeParse(x: unknown): {
      success: boolean;
      data?: unknown;
      error?: { issues: { path: PropertyKey[]; message: string }[] };
    };
  };
  create: (config: unknown, snapshot?: unknown, context?: DetectorContext) => unknown;
};

/** A table's entry for a configured name with its settings validated; a DetectorConfigError naming the key otherwise. */
function validated(
  table: Record<string, unknown>,
  choice: { detector: string; settings: Record<string, unknown> },
  key: string,
): { entry: Entry; config: unknown } {
  const name = choice.detector;
  if (!Object.hasOwn(table, name)) {
    throw new DetectorConfigError(
      `${key}.detector: unknown detector ${JSON.stringify(name)} (known: ${Object.keys(table).join(', ')})`,
    );
  }
  const entry = table[name] as Entry;
  const parsed = entry.config.safeParse(choice.settings);
  // zod drops keys it does not know; a misspelt setting must not silently fall back to its default.
  const unknown = unknownKeys(entry.config as unknown as z.ZodType, choice.settings, `${key}.settings`);
  if (!parsed.success || unknown.length > 0) {
    const issues = (parsed.error?.issues ?? []).map(
      (i) => `${key}.settings.${i.path.map(String).join('.')}: ${i.message}`,
    );
    throw new DetectorConfigError([...issues, ...unknown].join('; '));
  }
  return { entry, config: parsed.data };
}

function plan(
  choice: { detector: string; settings: Record<string, unknown>; sensitivity: number },
  key: string,
): DetectorPlan {
  const { entry, config } = validated(detectors, choice, key);
  return {
    name: choice.detector as DetectorName,
    sensitivity: choice.sensitivity,
    create: (snapshot, context) => entry.create(config, snapshot, context) as Detector,
  };
}

function devicePlan(choice: DetectionConfig['devices']): DevicePlan | undefined {
  if (choice.detector === 'none') return undefined;
  const { entry, config } = validated(deviceDetectors, choice, 'detection.devices');
  return {
    name: choice.detector as DeviceDetectorName,
    create: (snapshot) => entry.create(config, snapshot) as DeviceDetector,
  };
}

/**
 * The detector plan of every metric from the processor config's `detection` section, validated
 * once at start (before any point arrives): the default choice, and each metric's overrides on top
 * of it. A bad name or setting is a DetectorConfigError naming the key.
 */
export function detectorPlans(detection: DetectionConfig): DetectionPlans {
  const fallback = plan(detection, 'detection');
  const byMetric = new Map<string, DetectorPlan>();
  for (const [metric, override] of Object.entries(detection.metrics)) {
    const detector = override.detector ?? detection.detector;
    byMetric.set(
      metric,
      plan(
        {
          detector,
          // Settings are inherited only when the detector is the same one.
          settings: override.settings ?? (detector === detection.detector ? detection.settings : {}),
          sensitivity: override.sensitivity ?? detection.sensitivity,
        },
        `detection.metrics.${metric}`,
      ),
    );
  }
  const device = devicePlan(detection.devices);
  return Object.assign((metric: string) => byMetric.get(metric) ?? fallback, device ? { device } : {});
}
