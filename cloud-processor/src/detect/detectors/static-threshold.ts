import { z } from 'zod';
import { quiet, verdict, type Detector, type DetectorFactory, type SeriesPoint, type Verdict } from '../detector.js';

export const StaticThresholdConfig = z
  .object({
    /** Readings below this are anomalous (e.g. a freezer above −15 °C is not the concern here). */
    min: z.number().optional(),
    /** Readings above this are anomalous. */
    max: z.number().optional(),
    /** Surprise given to a reading beyond a limit, for ensembles (a configured limit is certain). */
    surprise: z.number().positive().default(8),
  })
  .refine((c) => c.min === undefined || c.max === undefined || c.min < c.max, { message: 'min must be below max' });
export type StaticThresholdConfig = z.output<typeof StaticThresholdConfig>;

/**
 * Configured limits: a point whose max is above `max` or whose min is below `min` (so one reading
 * beyond a limit inside a window counts, not only the mean). Stateless; the score grows from 0.5
 * at the limit towards 1 with the overshoot in units of the band's width (or of the limit).
 */
class StaticThreshold implements Detector {
  constructor(private readonly config: StaticThresholdConfig) {}

  update(point: SeriesPoint): Verdict {
    const { min, max } = this.config;
    const band = min !== undefined && max !== undefined ? max - min : Math.max(Math.abs(min ?? max ?? 1), 1e-9);
    if (max !== undefined && point.max > max) {
      const over = (point.max - max) / band;
      return verdict(
        0.5 + 0.5 * (over / (over + 0.1)),
        point.max,
        `${point.count > 1 ? 'max ' : ''}${point.max.toPrecision(4)} above the limit ${max}`,
        this.config.surprise,
      );
    }
    if (min !== undefined && point.min < min) {
      const under = (min - point.min) / band;
      return verdict(
        0.5 + 0.5 * (under / (under + 0.1)),
        point.min,
        `${point.count > 1 ? 'min ' : ''}${point.min.toPrecision(4)} below the limit ${min}`,
        this.config.surprise,
      );
    }
    return quiet(point.value);
  }

  snapshot(): Record<string, never> {
    return {};
  }
}

export const createStaticThreshold: DetectorFactory<StaticThresholdConfig> = (config) => new StaticThreshold(config);
