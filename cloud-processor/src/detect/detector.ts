import type { Slab } from './stats/slab.js';

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
  /** The window's first and last readings (by time), when known: they show a trend inside it. */
  readonly first?: number;
  readonly last?: number;
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
  /**
   * How surprising the point is for this series: −log10 of the estimated probability of a
   * deviation at least this large, judged against the series' own past (4 means one in 10,000).
   * Set by calibrated detectors; comparable across detectors and series, so an ensemble can
   * combine them and one threshold fits a whole fleet.
   */
  readonly surprise?: number | undefined;
  /**
   * The score before the detector's own de-duplication of one event's repeated reports (the
   * ensemble's refractory period). Alerting follows this, since the alert lifecycle does its own
   * de-duplication and must see that an anomaly persists; scoring (NAB) follows `score`.
   */
  readonly level?: number | undefined;
  /**
   * The surprise of the state the series is in, not of this point's news: how far it still is
   * from the level it left when it last alarmed (a fault that persists). Holds an alert open.
   */
  readonly hold?: number | undefined;
  /**
   * The point is the series' normal life by this detector's knowledge (a switch between levels it
   * has switched between before): other detectors' surprise at its level or shape is explained.
   */
  readonly known?: boolean | undefined;
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
  /**
   * Optional: "is anything overdue at time `now`?" Called by the processor's clock between
   * points (never with a `now` before the last point's `ts`) for detectors that judge silence,
   * such as missing data. Does not change the state that `update` depends on, so calling it or
   * not leaves later verdicts identical. Returns a verdict on the silence so far.
   */
  tick?(now: number): Verdict;
  /**
   * Optional: the series spoke at `ts` but has no value to judge (a window whose every reading
   * the agent's range filter removed). Called in order with `update`, in its place; detectors that
   * judge silence (missing data, the window rules' dropouts) take it as a point, the others need not
   * implement it.
   */
  heard?(ts: number): void;
}

/** What the processor knows of a series when it builds its detector. */
export interface DetectorContext {
  /** The series' window length (ms): a window's end minus its start; 0 for raw rows. */
  readonly windowMs: number;
  /**
   * `device`: the series' device reports several metrics at once and a device detector judges them
   * together (`machine`), which also holds the state the device left: the series' own detector
   * leaves level shifts and their holding to it (one decision per machine). `series` (the default):
   * the series is on its own.
   */
  readonly levels?: 'series' | 'device';
  /**
   * Where the series' detectors keep their numbers (stats/slab.ts): one buffer for all of a
   * series' members, shared by the ensemble, instead of one typed array for each of their helpers
   * (about 20 a series, each ~190 bytes of heap and a malloc'd store besides its values). Each
   * detector makes its own when none is given.
   */
  readonly slab?: Slab;
}

/** How the registry builds a detector: from its config, optionally a snapshot to resume, and the series' context. */
export type DetectorFactory<C> = (config: C, snapshot?: unknown, context?: DetectorContext) => Detector;

/** The window length horizons are converted with when a series' own is unknown (the 5-minute windows the defaults were first set for). */
export const DEFAULT_WINDOW_MS = 300_000;

/**
 * A horizon given as a duration, in windows of `windowMs` (DEFAULT_WINDOW_MS when 0): so "two
 * days" is two days whatever the window length. At least `min` (what the statistic needs) and at
 * most `max` (the bound on the state).
 */
export function windowsIn(durationMs: number, windowMs: number, min: number, max = Infinity): number {
  const w = windowMs > 0 ? windowMs : DEFAULT_WINDOW_MS;
  return Math.min(max, Math.max(min, Math.round(durationMs / w)));
}

/**
 * Maps a surprise (−log10 p) to a score: 0.5 exactly at `alarmSurprise`, monotone, below 1.
 * NAB-style scoring only sees the order of scores, so the shape matters only for alerting.
 */
export function scoreFromSurprise(surprise: number, alarmSurprise: number): number {
  return surprise > 0 ? surprise / (surprise + alarmSurprise) : 0;
}

/**
 * The thread's one reused verdict (see `reuseVerdicts`): every field written by each answer, so
 * that nothing of an earlier one shows through. Its reason is put together only when read (an
 * alert opening or updating): an ensemble's speaker and words, and a second member's.
 */
class Reply implements Verdict {
  score = 0;
  value = 0;
  surprise: number | undefined = 0;
  level: number | undefined = undefined;
  hold: number | undefined = undefined;
  known: boolean | undefined = undefined;
  /** Who speaks ('' for a detector on its own) and its words; a second member as sure, and its words ('' when none). */
  who = '';
  words = '';
  alsoWho = '';
  alsoWords = '';

  get reason(): string {
    if (this.who === '') return this.words;
    const first = `${this.who}: ${this.words}`;
    return this.alsoWho === '' ? first : `${first}; also ${this.alsoWho}: ${this.alsoWords}`;
  }
}

const REPLY = new Reply();
/** Whether verdicts are answered in REPLY (see `reuseVerdicts`). */
let reusing = false;

/**
 * While on, `verdict` and `quiet` answer in one object a thread, written over by the next
 * answer, instead of one object each (a dozen a series a window in an ensemble: a fifth of what
 * detection allocated, issue 18). For callers that read each verdict at once and keep nothing of
 * it but copies: an ensemble reading its members, Detection handing its series' verdict to the
 * alert lifecycle. Off (the default), each verdict is an object of its own, as the Detector
 * contract promises any other caller. Returns whether it was on, to be restored.
 */
export function reuseVerdicts(on: boolean): boolean {
  const was = reusing;
  reusing = on;
  return was;
}

/** Whether verdicts are answered in one reused object now (see `reuseVerdicts`). */
export function reusingVerdicts(): boolean {
  return reusing;
}

/**
 * A detector's verdict: an object of its own, or the reused one (`reuseVerdicts`). `hold` and
 * `known` are left out of an object of its own when not given.
 */
export function verdict(
  score: number,
  value: number,
  reason: string,
  surprise: number | undefined,
  hold?: number,
  known?: true,
): Verdict {
  if (reusing) return answer(score, undefined, value, surprise, hold, known, '', reason, '', '');
  const v: { -readonly [K in keyof Verdict]: Verdict[K] } = { score, value, reason, surprise };
  if (hold !== undefined) v.hold = hold;
  if (known !== undefined) v.known = known;
  return v;
}

/**
 * Writes every field of the reused verdict (for an ensemble, whose reason is `who: words`, and
 * `; also alsoWho: alsoWords` when `alsoWho` is not ''; `who` '' for a detector's own words).
 */
export function answer(
  score: number,
  level: number | undefined,
  value: number,
  surprise: number | undefined,
  hold: number | undefined,
  known: boolean | undefined,
  who: string,
  words: string,
  alsoWho: string,
  alsoWords: string,
): Verdict {
  const r = REPLY;
  r.score = score;
  r.level = level;
  r.value = value;
  r.surprise = surprise;
  r.hold = hold;
  r.known = known;
  r.who = who;
  r.words = words;
  r.alsoWho = alsoWho;
  r.alsoWords = alsoWords;
  return r;
}

/** A verdict saying nothing is wrong (shared constant strings; the reused object while `reuseVerdicts` is on). */
export function quiet(value: number, reason = 'normal'): Verdict {
  return reusing
    ? answer(0, undefined, value, 0, undefined, undefined, '', reason, '', '')
    : { score: 0, value, reason, surprise: 0 };
}

/**
 * `quiet(NaN)` made once: the verdict on a silence that is none, asked of every series at every
 * window boundary. Frozen, as callers may keep it (one shared object, not one a series a window).
 */
export const QUIET_SILENCE: Verdict = Object.freeze(quiet(Number.NaN));

/** 1.4826 · MAD estimates the standard deviation of normally distributed data. */
export const MAD_TO_SIGMA = 1.4826;

/** A value for a verdict's words: integers as they are, anything else to 3 significant digits. */
export function formatValue(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

/** Maps a distance in units of "threshold" to a score: 0.5 exactly at the threshold. */
export function scoreFromRatio(ratio: number): number {
  if (!(ratio > 0)) return 0;
  return ratio / (ratio + 1);
}
