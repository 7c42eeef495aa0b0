import type { InfluxConfig } from '@tributary/firmware-schemas';
import type { WriteTarget } from './target.js';
import { InfluxV1Target } from './v1.js';
import { InfluxV2Target } from './v2.js';

/** Every write API by its `influx.api` name. */
export const targets: Readonly<Record<InfluxConfig['api'], (config: InfluxConfig) => WriteTarget>> = {
  v1: (config) => new InfluxV1Target(config),
  v2: (config) => new InfluxV2Target(config),
};

export function createTarget(config: InfluxConfig): WriteTarget {
  return targets[config.api](config);
}
