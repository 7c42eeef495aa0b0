import {
  answer,
  quiet,
  QUIET_SILENCE,
  reuseVerdicts,
  scoreFromSurprise,
  type Detector,
  type DetectorContext,
  type DetectorFactory,
  type SeriesPoint,
  type Verdict,
} from '../detector.js';
import {
  DEFAULT_WEIGHTS,
  DEVICE_LEVELS,
  EXPLAINED,
  LABELS,
  MEMBERS,
  RULES,
  type Member,
  type MemberFactory,
  type MemberName,
} from './members.js';
import { RawWindows, type RawWindowsState } from '../stats/raw-windows.js';
import { Slab } from '../stats/slab.js';
import { ShiftConfig } from './shift.js';
import { EnsembleConfig, VALUE_WARMUP_MS } from './ensemble-config.js';

export { EnsembleConfig, type EnsembleConfigInput } from './ensemble-config.js';

/**
 * The current row as a one-point list, one for every series of the thread (read within `judge`):
 * no allocation per point, and no array a series (one each held ~200 bytes of heap with its last point).
 */
const ROW: SeriesPoint[] = [];

interface State {
  members: Partial<Record<MemberName, unknown>>;
  /** The window length the members' horizons were converted with; null before they are built (absent in older snapshots). */
  windowMs?: number | null;
  /** The first row, held until the second tells the series' cadence (the members are built then). */
  pending?: SeriesPoint;
  /** Level shifts left to the device's detector (DetectorContext.levels); absent: the series' own. */
  levels?: 'device';
  n: number;
  quietUntil: number;
  quietPoints?: number;
  quietLevel: number;
  lingerUntil?: number;
  knownUntil?: number;
  raw?: RawWindowsState;
}

/**
 * The default detector: every member judges the point, each in its own calibrated surprise
 * (−log10 of how rare the point is for this series by that member's measure), and the most
 * surprised member speaks for the ensemble. Calibration is what lets one threshold serve every
 * series and lets unlike members be compared at all.
 *
 * One event makes several consecutive points surprising; reporting each would be one alarm
 * repeated. So a point at `alarmSurprise` or above opens a refractory period of `refractoryMs`
 * (event time, running on while the event goes on), during which points are reported as 0 unless
 * they are `refractoryMargin` more surprising than the one that opened it (which then opens a new
 * period), scored by the step of that margin it reached. It never depends on the series' length.
 */
class Ensemble implements Detector {
  /** Who the members are (shared by the series of one config), and each one's detector for this series, in that order. */
  private roster: readonly Member[] = NO_MEMBERS;
  private readonly detectors: Detector[] = [];
  private n: number;
  /** The refractory period lasts until this time and this point (see refractoryMs, refractoryPoints). */
  private quietUntil: number;
  private quietPoints: number;
  private quietLevel: number;
  /**
   * How far stray points (a quarter of the alarm) may run the period on: twice the run-on (runOnMs) past the
   * event's last point at half the alarm. NAB leave-one-category-out 75.28 / 67.16 / 80.10 -> 76.13 /
   * 68.85 / 80.67, false alarms on unseen shapes 1.20 -> 1.10 per 1,000 points; a fixed 4-hour period
   * did as much there but merged the fleet's faults of one sensor hours apart (dip F1 0.962 -> 0.940),
   * which this leaves at 0.962.
   */
  private lingerUntil: number;
  /** How far a later point runs the period on: the period, but at most `refractoryPoints` of the series' windows. */
  private runOnMs = 0;
  /** Points before which a known switch explains level and pattern members' surprise (see EXPLAINED). */
  private knownUntil: number;
  /** Made at the first raw row (points that are windows pass by it: no state a series of windows). */
  private raw: RawWindows | undefined;
  private readonly levels: 'series' | 'device';
  /** The window length the members were built for; undefined until the series' cadence is known. */
  private windowMs: number | undefined;
  private pending: SeriesPoint | undefined;
  /** The member that holds a series to the level it left when the ensemble alarms. */
  private shift: (Detector & { alarmed(ts: number): void }) | undefined;

  constructor(
    private readonly config: EnsembleConfig,
    snapshot?: unknown,
    context?: DetectorContext,
  ) {
    const s = snapshot as State | undefined;
    // A state resumes as it was taken, whatever the context now says.
    this.levels = (s ? s.levels : context?.levels) === 'device' ? 'device' : 'series';
    // Only one that has seen a raw row: a series of windows stays without (older snapshots hold a fresh state).
    if (s?.raw !== undefined && !RawWindows.isFresh(s.raw)) this.raw = new RawWindows(config.rawWindowMs, s.raw);
    this.n = s?.n ?? 0;
    this.quietUntil = s?.quietUntil ?? -Infinity;
    this.quietPoints = s?.quietPoints ?? -Infinity;
    this.quietLevel = s?.quietLevel ?? 0;
    this.lingerUntil = s?.lingerUntil ?? -Infinity;
    this.knownUntil = s?.knownUntil ?? 0;
    this.pending = s?.pending;
    // The members judge this series' windows, whose length converts their horizons (durations) into
    // points. Raw rows (or a series of unknown length) tell it by their cadence: the members are
    // built at the second row. Older snapshots' members were built with the raw window length.
    const windowMs = s
      ? s.windowMs === undefined
        ? context === undefined
          ? 0
          : context.windowMs || config.rawWindowMs
        : (s.windowMs ?? undefined)
      : context?.windowMs || undefined;
    if (windowMs !== undefined) this.build(windowMs, s?.members);
  }

  /** Builds the members for points `windowMs` apart (0: unknown, 5 minutes), resuming their state if given. */
  private build(windowMs: number, states?: State['members']): void {
    const config = this.config;
    this.windowMs = windowMs;
    // Unknown spacing (0: taken as 5 minutes), or no count of points: the period itself.
    this.runOnMs =
      windowMs > 0 && config.refractoryPoints > 0
        ? Math.min(config.refractoryMs, config.refractoryPoints * windowMs)
        : config.refractoryMs;
    const common = sharedBy(config);
    this.roster = common.roster(this.levels);
    // One buffer for all the members' arrays (stats/slab.ts): a typed array each cost ~190 bytes of
    // heap besides its values. Made once for what the members of earlier series took when built.
    const slab = new Slab(states === undefined ? common.builtBytes(this.levels, windowMs) : 0);
    for (const { name } of this.roster) {
      const detector = (MEMBERS[name] as MemberFactory)(common.config(name), states?.[name], {
        windowMs,
        slab,
      });
      if (name === 'shift') this.shift = detector as Detector & { alarmed(ts: number): void };
      this.detectors.push(detector);
    }
    common.noteTicking(this.roster, this.detectors);
    if (states === undefined) common.built(this.levels, windowMs, slab.byteLength);
  }

  update(point: SeriesPoint): Verdict {
    // Ingest validates values; should a non-finite one get through, it must not poison the state.
    if (!Number.isFinite(point.value) || !Number.isFinite(point.ts))
      return { score: 0, value: point.value, surprise: 0, reason: 'not a finite value: ignored' };
    if (this.windowMs === undefined) {
      const first = this.pending;
      if (first === undefined || !(point.ts > first.ts)) {
        this.pending ??= point;
        return quiet(point.value, 'learning the cadence');
      }
      // Rows faster than every half raw window are judged in the windows they are gathered into
      // (RawWindows); slower ones, and windows, one by one at their spacing.
      const spacing = point.ts - first.ts;
      this.build(point.count > 1 || !(2 * spacing <= this.config.rawWindowMs) ? spacing : this.config.rawWindowMs);
      this.pending = undefined;
      this.judge(first);
    }
    return this.judge(point);
  }

  /**
   * The ensemble's verdict on a point, once its members are built. Each member answers in the
   * thread's reused verdict (reuseVerdicts), read at once: the ensemble keeps the numbers and
   * words of the two most surprised and of the one holding most, and answers in the reused verdict
   * too when its caller reads at once (Detection), its words put together only if read.
   */
  private judge(point: SeriesPoint): Verdict {
    let best = 0;
    let why = false;
    let whyValue = 0;
    let whyWords = '';
    let who = '';
    let second = 0;
    let alsoWords = '';
    let alsoWho = '';
    let hold = 0;
    let held = false;
    let heldValue = 0;
    let heldWords = '';
    // The shift member judges every row; the others, the windows fast rows are gathered into.
    ROW[0] = point;
    // A window, or no raw windows: RawWindows would pass the point as it is.
    const rawMs = this.config.rawWindowMs;
    const windows = point.count > 1 || !(rawMs > 0) ? ROW : (this.raw ??= new RawWindows(rawMs)).push(point);
    const reuse = reuseVerdicts(true);
    try {
      for (let i = 0; i < this.roster.length; i++) {
        const m = this.roster[i]!;
        const points = m.everyRow ? ROW : windows;
        for (let k = 0; k < points.length; k++) {
          const v = this.detectors[i]!.update(points[k]!);
          // A shape holds the switch for as many points as it is long.
          if (v.known === true)
            this.knownUntil = this.n + (this.config.novelty === false ? 1 : this.config.novelty.embedLength);
          const s = m.explainable && this.n < this.knownUntil ? 0 : (v.surprise ?? 0) * m.weight;
          if (v.hold !== undefined && v.hold * m.weight > hold) {
            hold = v.hold * m.weight;
            held = true;
            heldValue = v.value;
            heldWords = v.reason;
          }
          if (s > best) {
            if (why) {
              second = best;
              alsoWords = whyWords;
              alsoWho = who;
            }
            best = s;
            why = true;
            whyValue = v.value;
            whyWords = v.reason;
            who = m.label;
          } else if (s > second) {
            second = s;
            alsoWords = v.reason;
            alsoWho = m.label;
          }
        }
      }
    } finally {
      reuseVerdicts(reuse);
    }
    this.n++;
    let s = best;
    const t = point.ts;
    if ((t < this.quietUntil || this.n <= this.quietPoints) && s <= this.quietLevel + this.config.refractoryMargin) {
      // The event lasts while the series stays away from where it was (its period runs on from
      // there), or at half the alarm or more, or not back to normal (it runs on as chance would).
      if (hold >= this.config.alarmSurprise / 2) this.quiet(t);
      else if (best >= this.config.alarmSurprise / 2) this.runOn(t);
      else if (Math.max(best, hold) >= this.config.alarmSurprise / 4) this.linger(t);
      s = 0;
    } else if (s >= this.config.alarmSurprise) {
      this.quietUntil = this.quietPoints = -Infinity;
      this.quiet(t);
      this.quietLevel = s;
      this.shift?.alarmed(point.ts);
    }
    // The level an alert is held by: a point alarming in its own right (repeats of one event
    // included, which the refractory period leaves unreported), or a fault that persists.
    const alarming = best >= this.config.alarmSurprise ? best : 0;
    const level = scoreFromSurprise(Math.max(alarming, hold), this.config.alarmSurprise);
    if (s === 0 || !why) {
      if (hold > alarming && held)
        return reuse
          ? answer(0, level, heldValue, 0, hold, undefined, LABELS.shift, heldWords, '', '')
          : { score: 0, level, value: heldValue, surprise: 0, hold, reason: `${LABELS.shift}: ${heldWords}` };
      if (alarming > 0 && why)
        return reuse
          ? answer(0, level, whyValue, 0, undefined, undefined, who, whyWords, '', '')
          : { score: 0, level, value: whyValue, surprise: 0, reason: `${who}: ${whyWords}` };
      return quiet(point.value);
    }
    // A second member just as sure adds its own words ("noise burst …; also outlier: max …").
    const also = second >= this.config.alarmSurprise && alsoWho !== '';
    const score = scoreFromSurprise(
      reportedSurprise(s, this.config.alarmSurprise, this.config.refractoryMargin),
      this.config.alarmSurprise,
    );
    if (reuse) return answer(score, level, whyValue, s, hold, undefined, who, whyWords, also ? alsoWho : '', alsoWords);
    const reason = also ? `${who}: ${whyWords}; also ${alsoWho}: ${alsoWords}` : `${who}: ${whyWords}`;
    return { score, level, value: whyValue, surprise: s, hold, reason };
  }

  /** Runs the refractory period on from the point at `t` (the n-th): an alarm, or a fault that persists. */
  private quiet(t: number): void {
    this.quietUntil = Math.max(this.quietUntil, t + this.config.refractoryMs);
    this.runOn(t);
  }

  /** Runs the period on from a point at half the alarm at `t` (the n-th), as far as chance's tries allow. */
  private runOn(t: number): void {
    this.quietUntil = Math.max(this.quietUntil, t + this.runOnMs);
    this.quietPoints = Math.max(this.quietPoints, this.n + this.config.refractoryPoints);
    this.lingerUntil = t + 2 * this.runOnMs;
  }

  /** Runs the period on from a stray point at `t`, up to where the event's last point at half the alarm lets it. */
  private linger(t: number): void {
    this.quietUntil = Math.max(this.quietUntil, Math.min(t + this.runOnMs, this.lingerUntil));
  }

  /** The series spoke with no value: told to the members that judge silence (once built), at the time of the window fast rows are gathered into. */
  heard(ts: number): void {
    const at = this.raw?.heardAt(ts) ?? ts;
    for (const d of this.detectors) d.heard?.(at);
  }

  /** The most overdue member's verdict on the silence up to `now` (state unchanged); the members answer as in `judge`. */
  tick(now: number): Verdict {
    let s = 0;
    let value = 0;
    let words = '';
    let who = '';
    const reuse = reuseVerdicts(true);
    try {
      for (let i = 0; i < this.roster.length; i++) {
        const m = this.roster[i]!;
        // Only the members that judge silence are asked (a member without `tick` looked up on each
        // of a dozen classes at every series' every window boundary was a sixth of a tick).
        if (m.ticks !== true) continue;
        const v = this.detectors[i]!.tick!(now);
        if ((v.surprise ?? 0) * m.weight > s) {
          s = v.surprise!;
          value = v.value;
          words = v.reason;
          who = LABELS[m.name];
        }
      }
    } finally {
      reuseVerdicts(reuse);
    }
    if (!(s > 0)) return QUIET_SILENCE;
    const score = scoreFromSurprise(s, this.config.alarmSurprise);
    return reuse
      ? answer(score, undefined, value, s, undefined, undefined, who, words, '', '')
      : { score, value, reason: `${who}: ${words}`, surprise: s };
  }

  snapshot(): State {
    const members: Partial<Record<MemberName, unknown>> = {};
    for (let i = 0; i < this.roster.length; i++) members[this.roster[i]!.name] = this.detectors[i]!.snapshot();
    return {
      members,
      windowMs: this.windowMs ?? null,
      ...(this.pending ? { pending: { ...this.pending } } : {}),
      ...(this.levels === 'device' ? { levels: 'device' as const } : {}),
      n: this.n,
      quietUntil: this.quietUntil,
      quietPoints: this.quietPoints,
      quietLevel: this.quietLevel,
      lingerUntil: this.lingerUntil,
      knownUntil: this.knownUntil,
      ...(this.raw ? { raw: this.raw.snapshot() } : {}),
    };
  }
}

/**
 * What the series of one ensemble config share, made once: the roster of its members (with the
 * device's level shifts left to it, or not) and each member's config as the ensemble gives it.
 */
class Shared {
  private readonly rosters = new Map<'series' | 'device', readonly Member[]>();
  private readonly configs = new Map<MemberName, object>();
  /** Bytes the members' slab took when built afresh, by roster and window length (the same for every series of both). */
  private readonly slabBytes = new Map<string, number>();

  constructor(private readonly ensemble: EnsembleConfig) {}

  roster(levels: 'series' | 'device'): readonly Member[] {
    let roster = this.rosters.get(levels);
    if (roster !== undefined) return roster;
    const config = this.ensemble;
    const members: Member[] = [];
    for (const name of Object.keys(MEMBERS) as MemberName[]) {
      if (config[name] === false) continue;
      // The device's detector judges and holds a machine's metrics' levels (one decision per machine).
      if (levels === 'device' && DEVICE_LEVELS.has(name)) continue;
      members.push({
        name,
        label: LABELS[name],
        weight: config.weights[name] ?? DEFAULT_WEIGHTS[name] ?? 1,
        everyRow: name === 'shift',
        explainable: EXPLAINED.has(name) || name === 'novelty',
        ticks: undefined,
      });
    }
    this.rosters.set(levels, (roster = members));
    return roster;
  }

  /** Notes which members of `roster` judge silence (`tick`), from its members built for a series (the same classes for every series). */
  noteTicking(roster: readonly Member[], detectors: readonly Detector[]): void {
    if (roster.length === 0 || roster[0]!.ticks !== undefined) return;
    for (let i = 0; i < roster.length; i++) roster[i]!.ticks = detectors[i]!.tick !== undefined;
  }

  /** Bytes a slab of members built afresh for `levels` and `windowMs` took (0 before one was built). */
  builtBytes(levels: 'series' | 'device', windowMs: number): number {
    return this.slabBytes.get(`${levels} ${windowMs}`) ?? 0;
  }

  built(levels: 'series' | 'device', windowMs: number, bytes: number): void {
    // Bounded: one entry a window length the series of this config have (a key of a few numbers each).
    if (this.slabBytes.size < MAX_WINDOW_LENGTHS) this.slabBytes.set(`${levels} ${windowMs}`, bytes);
  }

  config(name: MemberName): object {
    let c = this.configs.get(name);
    if (c !== undefined) return c;
    const config = this.ensemble;
    const own = config[name] as object;
    if ('calibration' in own) {
      const calibration: Record<string, unknown> = { ...(own as ShiftConfig).calibration };
      for (const [key, value] of Object.entries(config.calibration)) if (value !== undefined) calibration[key] = value;
      if (config.calibration.warmupMs === undefined && name !== 'missing') calibration.warmupMs = VALUE_WARMUP_MS;
      c = { ...own, calibration };
    } else c = own;
    // Rules report the alarm surprise exactly at their threshold: the ensemble's alarm.
    if (RULES.has(name)) c = { ...c, alarmSurprise: config.alarmSurprise };
    // A member that holds a state away from normal leaves it at half the ensemble's alarm.
    if (name === 'shift')
      c = { ...c, calibration: { ...(c as ShiftConfig).calibration, alarmSurprise: config.alarmSurprise } };
    this.configs.set(name, c);
    return c;
  }
}

const shared = new WeakMap<EnsembleConfig, Shared>();
/** Window lengths whose built slab size an ensemble config remembers (beyond, new ones are built without). */
const MAX_WINDOW_LENGTHS = 64;
/** The roster of an ensemble whose members are not built yet (the series' cadence is not known). */
const NO_MEMBERS: readonly Member[] = [];

function sharedBy(config: EnsembleConfig): Shared {
  let s = shared.get(config);
  if (s === undefined) shared.set(config, (s = new Shared(config)));
  return s;
}

/**
 * A reported point's surprise: below the alarm as it is; from it on, the step of `margin` past the
 * alarm it reached (2.5–3.5 → 2.5, 3.5–4.5 → 3.5, …). An event is reported where it first crosses
 * the alarm, mostly by a hair, and then only a full step higher: a threshold a hair above the alarm
 * (fitted on other data: NAB's realTraffic fold took 0.509) lost every such event. In steps, every
 * threshold between two decides alike; the score tells no more than the refractory period does.
 */
export function reportedSurprise(s: number, alarm: number, margin: number): number {
  return s >= alarm && margin > 0 ? alarm + margin * Math.floor((s - alarm) / margin) : s;
}

export const createEnsemble: DetectorFactory<EnsembleConfig> = (config, snapshot, context) =>
  new Ensemble(config, snapshot, context);
