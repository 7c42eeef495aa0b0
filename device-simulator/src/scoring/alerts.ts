import type { GroundTruth } from '@tributary/firmware-schemas';

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
  /** Alerts attributed to this kind over those plus this kind's share of the false alerts. */
  readonly precision: number;
  readonly f1: number;
  /** Detection delay (first matching alert's openedAt − label start, at least 0), ms; undefined with no detection. */
  readonly medianDelayMs: number | undefined;
  readonly maxDelayMs: number | undefined;
}

export interface Score {
  readonly labels: number;
  readonly detected: number;
  readonly alerts: number;
  readonly truePositiveAlerts: number;
  readonly falsePositiveAlerts: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly medianDelayMs: number | undefined;
  readonly byKind: Readonly<Record<string, KindScore>>;
}

function f1Of(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const seriesKey = (device: string, metric: string): string => `${device}\u0000${metric}`;

/** Whether an alert is about this label: same series, opened from `earlyMs` before its start to `lateMs` after its end. */
export function alertMatches(a: ScoredAlert, l: GroundTruth, options: ScoreOptions): boolean {
  return (
    a.device === l.device &&
    a.metric === l.metric &&
    a.openedAt >= l.start - options.earlyMs &&
    a.openedAt <= l.end + options.lateMs
  );
}

/**
 * Scores alert openings against ground truth. Matching rules:
 * - an alert matches a label when it is on the same device and metric and opened within
 *   [start − earlyMs, end + lateMs] (windowed detectors report at a window's edge);
 * - a label is detected when at least one alert matches it; its delay is the first matching
 *   alert's openedAt − start, at least 0;
 * - an alert is a true positive when it matches some label, a false positive otherwise; several
 *   alerts on one label are all true positives (re-opened alerts are not punished twice), but the
 *   label counts once for recall;
 * - a true positive is attributed to the earliest label it matches, for per-kind precision; false
 *   positives cannot be told apart by kind, so each kind is charged a share of them in proportion
 *   to its true positives.
 */
export function scoreAlerts(
  labels: readonly GroundTruth[],
  alerts: readonly ScoredAlert[],
  options: ScoreOptions,
): Score {
  const bySeries = new Map<string, GroundTruth[]>();
  for (const l of labels) {
    const key = seriesKey(l.device, l.metric);
    (bySeries.get(key) ?? bySeries.set(key, []).get(key)!).push(l);
  }
  for (const list of bySeries.values()) list.sort((a, b) => a.start - b.start);
  const firstHit = new Map<GroundTruth, number>();
  const tpByKind = new Map<string, number>();
  let tp = 0;
  for (const a of alerts) {
    const candidates = bySeries.get(seriesKey(a.device, a.metric)) ?? [];
    let attributed = false;
    for (const l of candidates) {
      if (!alertMatches(a, l, options)) continue;
      const prev = firstHit.get(l);
      if (prev === undefined || a.openedAt < prev) firstHit.set(l, a.openedAt);
      if (!attributed) {
        attributed = true;
        tp++;
        tpByKind.set(l.kind, (tpByKind.get(l.kind) ?? 0) + 1);
      }
    }
  }
  const fp = alerts.length - tp;
  const kinds = new Map<string, { labels: number; detected: number; delays: number[] }>();
  for (const l of labels) {
    const k = kinds.get(l.kind) ?? kinds.set(l.kind, { labels: 0, detected: 0, delays: [] }).get(l.kind)!;
    k.labels++;
    const hit = firstHit.get(l);
    if (hit === undefined) continue;
    k.detected++;
    k.delays.push(Math.max(0, hit - l.start));
  }
  const detected = firstHit.size;
  const precision = alerts.length === 0 ? (labels.length === 0 ? 1 : 0) : tp / alerts.length;
  const recall = labels.length === 0 ? 1 : detected / labels.length;
  const byKind: Record<string, KindScore> = {};
  for (const [kind, k] of kinds) {
    const ktp = tpByKind.get(kind) ?? 0;
    const share = tp === 0 ? 0 : (fp * ktp) / tp;
    const kp = ktp + share === 0 ? 0 : ktp / (ktp + share);
    const kr = k.detected / k.labels;
    byKind[kind] = {
      labels: k.labels,
      detected: k.detected,
      recall: kr,
      precision: kp,
      f1: f1Of(kp, kr),
      medianDelayMs: median(k.delays),
      maxDelayMs: k.delays.length ? Math.max(...k.delays) : undefined,
    };
  }
  const allDelays = [...kinds.values()].flatMap((k) => k.delays);
  return {
    labels: labels.length,
    detected,
    alerts: alerts.length,
    truePositiveAlerts: tp,
    falsePositiveAlerts: fp,
    precision,
    recall,
    f1: f1Of(precision, recall),
    medianDelayMs: median(allDelays),
    byKind,
  };
}

/** A score as a table for people: one line per kind, then the totals. */
export function formatScore(score: Score): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`.padStart(7);
  const delay = (ms: number | undefined): string =>
    (ms === undefined ? '-' : `${(ms / 1000).toFixed(0)} s`).padStart(9);
  const lines = [
    `${'kind'.padEnd(14)}${'labels'.padStart(7)}${'found'.padStart(7)}${'precision'.padStart(10)}${'recall'.padStart(8)}${'F1'.padStart(8)}${'median delay'.padStart(14)}${'max delay'.padStart(11)}`,
  ];
  for (const [kind, k] of Object.entries(score.byKind).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      `${kind.padEnd(14)}${String(k.labels).padStart(7)}${String(k.detected).padStart(7)}${pct(k.precision).padStart(10)}${pct(k.recall).padStart(8)}${pct(k.f1).padStart(8)}${delay(k.medianDelayMs).padStart(14)}${delay(k.maxDelayMs).padStart(11)}`,
    );
  }
  lines.push(
    `${'all'.padEnd(14)}${String(score.labels).padStart(7)}${String(score.detected).padStart(7)}${pct(score.precision).padStart(10)}${pct(score.recall).padStart(8)}${pct(score.f1).padStart(8)}${delay(score.medianDelayMs).padStart(14)}`,
  );
  lines.push(`alerts: ${score.alerts} (${score.truePositiveAlerts} match a label, ${score.falsePositiveAlerts} false)`);
  return lines.join('\n');
}
