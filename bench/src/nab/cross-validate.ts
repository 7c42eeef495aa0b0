import { scoreAtThreshold, scoreProfile, type Profile, type ScoredFile } from './score.js';

/** A file's category: the folder part of its NAB name (`realTraffic/speed_6005.csv` → `realTraffic`). */
export const categoryOf = (name: string): string => name.slice(0, Math.max(0, name.indexOf('/')));

export interface HeldOut {
  readonly category: string;
  /** The threshold fitted on the other categories. */
  readonly threshold: number;
  /** The held-out category's raw score at that threshold, and its windows. */
  readonly raw: number;
  readonly windows: number;
}

export interface CrossValidated {
  /** Normalised over every window: the held-out raw scores summed, as if the corpus were one file set. */
  readonly normalized: number;
  readonly folds: readonly HeldOut[];
}

/**
 * Leave-one-category-out: for each category, the best global threshold (NAB clause 8) is fitted
 * on the files of every other category and applied to that category's files; the held-out raw
 * scores are summed and normalised over all windows (clause 9). A detector whose good score
 * depends on a threshold tuned to these very files loses here what it would lose on new data.
 * A category without windows is still held out (its false positives count).
 */
export function leaveOneCategoryOut(files: readonly ScoredFile[], profile: Profile): CrossValidated {
  const categories = [...new Set(files.map((f) => categoryOf(f.name)))].sort();
  const folds: HeldOut[] = [];
  let raw = 0;
  let windows = 0;
  for (const category of categories) {
    const inside = files.filter((f) => categoryOf(f.name) === category);
    const others = files.filter((f) => categoryOf(f.name) !== category);
    const { threshold } = scoreProfile(others, profile);
    const r = scoreAtThreshold(inside, profile, threshold);
    folds.push({ category, threshold, raw: r.raw, windows: r.windows });
    raw += r.raw;
    windows += r.windows;
  }
  const nullRaw = -profile.fnWeight * windows;
  const perfectRaw = profile.tpWeight * windows;
  return { normalized: windows === 0 ? 0 : (100 * (raw - nullRaw)) / (perfectRaw - nullRaw), folds };
}
