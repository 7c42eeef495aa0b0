import type { Detector, DetectorContext } from '../detector.js';
import { createDrift } from './drift.js';
import { createEwma } from './ewma.js';
import { createFlatline } from './flatline.js';
import { createMissing } from './missing.js';
import { createNovelty } from './novelty.js';
import { createRateOfChange } from './rate-of-change.js';
import { createRobustZScore } from './robust-zscore.js';
import { createSeasonal } from './seasonal.js';
import { createShift } from './shift.js';
import { createStaticThreshold } from './static-threshold.js';
import { createVolatility } from './volatility.js';
import { createWindowRules } from './window-rules.js';

/**
 * The ensemble's members, in the order their verdicts are read (the first of equal surprises names
 * the reason); each is built from its config, its snapshot and the series' context (the window
 * length its horizons are converted with).
 */
export const MEMBERS = {
  shape: createWindowRules,
  drift: createDrift,
  limits: createStaticThreshold,
  flatline: createFlatline,
  missing: createMissing,
  level: createRobustZScore,
  ewma: createEwma,
  shift: createShift,
  rate: createRateOfChange,
  volatility: createVolatility,
  daily: createSeasonal,
  weekly: createSeasonal,
  novelty: createNovelty,
} as const;
export type MemberName = keyof typeof MEMBERS;
export type MemberFactory = (config: unknown, snapshot?: unknown, context?: DetectorContext) => Detector;

/**
 * Members whose surprise at a point's level or shape is explained when another member knows the
 * point is the series' normal life (the window rules: a switch between known levels). They are
 * read after the window rules (MEMBERS' order).
 */
export const EXPLAINED: ReadonlySet<MemberName> = new Set(['level', 'ewma', 'shift', 'rate', 'daily', 'weekly']);

/**
 * Members that judge a series' level against its own recent past (a shift, a mean far from the
 * recent median or average, a run of values unlike any remembered). On a series whose device's
 * metrics are judged together (`DetectorContext.levels` = `device`) they are left out: the device
 * detector judges each metric's level against its baseline (the rarest metric on its own, too) and
 * holds it, so they would only repeat its decision as a second alert about one event (a room's
 * first weekday filling with CO2 alerted from both: from a Saturday start, 52 false alerts -> 42).
 */
export const DEVICE_LEVELS: ReadonlySet<MemberName> = new Set(['level', 'ewma', 'shift', 'novelty']);

/** Members that report `alarmSurprise × (how far past their threshold)`, not a calibrated surprise. */
export const RULES: ReadonlySet<MemberName> = new Set(['shape', 'drift']);

/** How a member is named in a verdict's reason ("daily cycle: above the usual …"). */
export const LABELS: Record<MemberName, string> = {
  shape: 'sensor fault',
  drift: 'drift',
  limits: 'limit',
  flatline: 'stuck sensor',
  missing: 'dropout',
  level: 'outlier',
  ewma: 'level change',
  shift: 'level shift',
  rate: 'sudden step',
  volatility: 'noise burst',
  daily: 'daily cycle',
  weekly: 'weekly cycle',
  novelty: 'new pattern',
};

/**
 * Members whose surprise counts for less by default. Runs of equal values and single large steps
 * are common in healthy integer-valued or idle series (a key logger at 0, a speed sensor at its
 * speed limit); they stand for a fault only when far longer or larger than the series has shown,
 * so half their surprise is taken. Everything else counts at 1.
 */
export const DEFAULT_WEIGHTS: Partial<Record<MemberName, number>> = { flatline: 0.5, rate: 0.5 };

/** Who a member is in an ensemble (shared by its series; each series has the member's detector of its own). */
export interface Member {
  readonly name: MemberName;
  readonly label: string;
  readonly weight: number;
  /** Judges every row (the shift member), not the windows fast rows are gathered into. */
  readonly everyRow: boolean;
  /** Its surprise is explained while a known switch is in view (EXPLAINED, and novelty). */
  readonly explainable: boolean;
  /** It judges silence (its detector has `tick`): noted when the roster's first series is built, undefined before. */
  ticks: boolean | undefined;
}
