import { formatValue as fmt, scoreFromSurprise } from '../detector.js';
import type { MachineVerdict } from './machine-config.js';

/** A metric with at least this share of the distance moved (it is named, and held to where it was). */
const MOVED_SHARE = 0.05;

/**
 * The metrics with the largest shares of the distance (at most three, each over MOVED_SHARE), of the
 * first k metrics of `present` (indices into `names`), with their shares and standardised residuals.
 */
export function moved(
  shares: ArrayLike<number>,
  z: ArrayLike<number>,
  present: ArrayLike<number>,
  k: number,
  names: readonly string[],
): MachineVerdict['moved'] {
  // Only the metrics over the share are built (a stable sort of those: ties keep their order).
  const out: { metric: string; share: number; up: boolean }[] = [];
  for (let i = 0; i < k; i++)
    if (shares[i]! > MOVED_SHARE) out.push({ metric: names[present[i]!]!, share: shares[i]!, up: z[i]! > 0 });
  if (out.length > 1) out.sort((a, b) => b.share - a.share);
  if (out.length > 3) out.length = 3;
  return out;
}

/**
 * The machine's verdict: `surprise` (news at this time) and `hold` (how far the machine stays from
 * the state it left), naming the metrics that moved most; `away`: whether it is held to a state it left.
 */
export function machineVerdict(
  surprise: number,
  hold: number,
  alarm: number,
  top: MachineVerdict['moved'],
  away: boolean,
): MachineVerdict {
  const level = Math.max(surprise, hold);
  if (level === 0) return { score: 0, value: Number.NaN, reason: 'normal', surprise: 0, moved: top };
  const words = top.map((m) => `${m.metric} ${m.up ? 'up' : 'down'} (${Math.round(100 * m.share)} %)`).join(', ');
  const since = away ? ' since it left its usual state' : '';
  return {
    score: scoreFromSurprise(surprise, alarm),
    level: scoreFromSurprise(level, alarm),
    value: Number.NaN,
    surprise,
    hold,
    moved: top,
    reason: `the machine's metrics together are ${level >= alarm ? 'far' : 'somewhat'} from their usual state${since}: ${words || 'no single metric stands out'} (surprise ${fmt(Math.round(level * 10) / 10)})`,
  };
}
