import type { AlertEvent, ProcessorConfig } from '@tributary/firmware-schemas';
import { AlertLifecycle } from '../alerts/lifecycle.js';
import { Detection } from '../detect/detection.js';
import { detectorPlans } from '../detect/registry.js';
import type { ReplayInput } from './sources.js';

export interface ReplayResult {
  readonly alerts: AlertEvent[];
  readonly points: number;
  readonly series: number;
  readonly seconds: number;
}

/**
 * Feeds stored points through exactly the detection and alert code the live processor runs
 * (Kappa: one implementation), one agent at a time in time order, as if the agent had sent them
 * in one batch with everything complete. Starts from fresh detector state, as a processor that has
 * never seen these series would.
 */
export function replay(config: ProcessorConfig, input: ReplayInput): ReplayResult {
  const lifecycle = new AlertLifecycle(config.alerts);
  const detection = new Detection(detectorPlans(config.detection), lifecycle, config.detection.maxSeries);
  const alerts: AlertEvent[] = [];
  let points = 0;
  const t0 = process.hrtime.bigint();
  for (const [agent, list] of input) {
    points += list.length;
    const last = list.reduce((m, p) => Math.max(m, p.ts), -Infinity);
    alerts.push(...detection.ingest(agent, list, Number.isFinite(last) ? last : undefined));
  }
  return { alerts, points, series: detection.size, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}
