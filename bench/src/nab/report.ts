import type { ProfileResult } from './score.js';

/** The three NAB profiles, in NAB's order, with the short names used in output. */
export const PROFILE_KEYS = [
  ['standard', 'standard'],
  ['reward_low_FP_rate', 'reward_low_fp'],
  ['reward_low_FN_rate', 'reward_low_fn'],
] as const;

/** One line per profile: normalized score, threshold, windows detected, TP and FP rows. */
export function formatProfiles(label: string, results: Record<string, ProfileResult>): string {
  return PROFILE_KEYS.map(([p]) => {
    const r = results[p];
    if (!r) return `${label.padEnd(24)} ${p.padEnd(20)} (not scored)`;
    return `${label.padEnd(24)} ${p.padEnd(20)} ${r.normalized.toFixed(2).padStart(6)}  threshold ${r.threshold.toPrecision(6).padEnd(10)} windows ${r.windowsDetected}/${r.windows}  tp ${r.tpRows}  fp ${r.fpRows}`;
  }).join('\n');
}
