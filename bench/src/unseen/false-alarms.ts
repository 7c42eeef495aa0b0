import type { ProcessorConfig } from '@tributary/firmware-schemas';
import { csvPoints, replay } from '@tributary/cloud-processor';
import type { Family } from './families.js';

/** Series per family: one of each of the family's four scales. */
export const SEEDS = [100, 101, 102, 103];

export interface FalseAlarms {
  readonly family: string;
  readonly points: number;
  /** Alerts opened: every one is a false alarm (the series are anomaly-free). */
  readonly alerts: number;
  readonly perThousand: number;
  /** Alerts opened by each reason's first words (the member that spoke), most first. */
  readonly byReason: ReadonlyMap<string, number>;
}

/** The member that opened an alert, from its message ("level shift: …" → "level shift"). */
const speaker = (message: string): string => message.slice(0, Math.max(0, message.indexOf(':'))) || message;

/**
 * The live decision on a family's anomaly-free series: each replayed through exactly what
 * `tributary-replay csv` runs (fresh state, the config's detection and alert lifecycle), and every
 * opened alert counted as a false alarm, per 1,000 points.
 */
export function falseAlarms(family: Family, config: ProcessorConfig, seeds: readonly number[] = SEEDS): FalseAlarms {
  let points = 0;
  let alerts = 0;
  const byReason = new Map<string, number>();
  for (const seed of seeds) {
    const rows = family.series(seed);
    points += rows.length;
    for (const a of replay(config, new Map([['unseen', csvPoints(`${family.name} ${seed}`, rows)]])).alerts) {
      if (a.state !== 'opened') continue;
      alerts++;
      const who = speaker(a.message);
      byReason.set(who, (byReason.get(who) ?? 0) + 1);
    }
  }
  return {
    family: family.name,
    points,
    alerts,
    perThousand: (1000 * alerts) / points,
    byReason: new Map([...byReason].sort((a, b) => b[1] - a[1])),
  };
}
