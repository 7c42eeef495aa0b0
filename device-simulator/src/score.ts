import type { GroundTruth } from './anomalies.js';

/** The part of an alert the scorer needs: which series, and when it opened (event time, ms). */
export interface ScoredAlert {
  readonly device: string;
  readonly metric: string;
  readonly openedAt: number;
}

export interface ScoreOptions {
  /** An alert may open this long before a label starts (its window began before the anomaly). */
  readonly earlyMs: number;
  /** …and this long after a label ends and still count as detecting it. */
  readonly lateMs: number;
}

export interface KindScore {
  readonly labels: number;
  readonly detected: number;
  readonly recall: number;
  /** Alerts that matched a label of this kind over those plus the false alerts, shared by kind. */
  readonly precision: number;
  readonly f1: number;
  /** Median of (first matching alert's openedAt − label start), ms; undefined with no detection. */
  readonly medianDelayMs: number | undefined;
}

export interface Score {
  readonly alerts: number;
  readonly truePositiveAlerts: number;
  readonly falsePositiveAlerts: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly byKind: Readonly<Record<string, KindScore>>;
}

function f1Of(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Scores alert openings against ground truth. A label is detected when an alert on the same
 * device and metric opened within [start − earlyMs, end + lateMs]; an alert is a true positive when
 * it falls in such an interval of some label, a false positive otherwise. False positives cannot
 * be told apart by kind, so each kind's precision charges them in proportion to its true positives.
 */
export function scoreAlerts(labels: readonly GroundTruth[], alerts: readonly ScoredAlert[], options: ScoreOptions): Score {
  const bySeries = new Map<string, ScoredAlert[]>();
  for (const a of alerts) {
    const key = `${a.device}\u0000${a.metric}`;
    (bySeries.get(key) ?? bySeries.set(key, []).get(key)!).push(a);
  }
  const matched = new Set<ScoredAlert>();
  const kinds = new Map<string, { labels: number; detected: number; delays: number[]; tpAlerts: Set<ScoredAlert> }>();
  for (const label of labels) {
    const k = kinds.get(label.kind) ?? kinds.set(label.kind, { labels: 0, detected: 0, delays: [], tpAlerts: new Set() }).get(label.kind)!;
    k.labels++;
    const candidates = (bySeries.get(`${label.device}\u0000${label.metric}`) ?? []).filter((a) => a.openedAt >= label.start - options.earlyMs && a.openedAt <= label.end + options.lateMs);
    if (candidates.length === 0) continue;
    k.detected++;
    k.delays.push(Math.max(0, Math.min(...candidates.map((a) => a.openedAt)) - label.start));
    for (const a of candidates) {
      matched.add(a);
      k.tpAlerts.add(a);
    }
  }
  const fp = alerts.length - matched.size;
  const precision = alerts.length === 0 ? (labels.length === 0 ? 1 : 0) : matched.size / alerts.length;
  const recall = labels.length === 0 ? 1 : [...kinds.values()].reduce((n, k) => n + k.detected, 0) / labels.length;
  const byKind: Record<string, KindScore> = {};
  for (const [kind, k] of kinds) {
    const tp = k.tpAlerts.size;
    const share = matched.size === 0 ? 0 : (fp * tp) / matched.size;
    const kp = tp + share === 0 ? 0 : tp / (tp + share);
    const kr = k.labels === 0 ? 1 : k.detected / k.labels;
    byKind[kind] = { labels: k.labels, detected: k.detected, recall: kr, precision: kp, f1: f1Of(kp, kr), medianDelayMs: median(k.delays) };
  }
  return { alerts: alerts.length, truePositiveAlerts: matched.size, falsePositiveAlerts: fp, precision, recall, f1: f1Of(precision, recall), byKind };
}
