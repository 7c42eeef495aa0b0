/**
 * One point of a series as a detector sees it: a window aggregate from an agent, or one raw row
 * (NAB CSV, replay), where min = max = value, stddev = 0 and count = 1.
 */
export interface SeriesPoint {
  /** Event time in ms (a window's end, or a row's timestamp). */
  readonly ts: number;
  /** The window mean, or the raw value. */
  readonly value: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation inside the window; 0 for raw rows. */
  readonly stddev: number;
  /** Readings in the window; 1 for raw rows. */
  readonly count: number;
}

export function rawPoint(ts: number, value: number): SeriesPoint {
  return { ts, value, min: value, max: value, stddev: 0, count: 1 };
}

/** What a detector says about one point. */
export interface Verdict {
  /** Anomaly score in [0, 1]; 0.5 and above means anomalous at the configured sensitivity. */
  readonly score: number;
  /** The value the detector judged (for alerts: "max 48.2 against a median of 21.0"). */
  readonly value: number;
  /** A few words on why, for alert messages. */
  readonly reason: string;
}

/**
 * A streaming detector for one series. Strictly causal: `update` sees points in order, one at a
 * time, and its verdict depends only on points up to and including this one and on its config.
 * State is bounded (it never grows with the length of the series).
 */
export interface Detector {
  update(point: SeriesPoint): Verdict;
  /** JSON-serialisable state; a detector created from it continues exactly as this one would. */
  snapshot(): unknown;
}

/** How the registry builds a detector: from its config and, optionally, a snapshot to resume. */
export type DetectorFactory<C> = (config: C, snapshot?: unknown) => Detector;

/** Maps a distance in units of "threshold" to a score: 0.5 exactly at the threshold. */
export function scoreFromRatio(ratio: number): number {
  if (!(ratio > 0)) return 0;
  return ratio / (ratio + 1);
}
