import { z } from 'zod';
import { DelayedCalibrator, type DelayedCalibratorState } from '../stats/delayed-calibrator.js';
import { formatValue as fmt, scoreFromSurprise, type Verdict } from '../detector.js';
import { LevelTracker, type LevelTrackerState } from '../stats/level-tracker.js';
import { Slab } from '../stats/slab.js';
import { LEARN_DELAY, LevelCalibration, LevelConfig } from './shift.js';

export const MachineConfig = LevelConfig.extend({
  /** Alarms at the ensemble's surprise: one decision for series and machines. */
  calibration: LevelCalibration.prefault({ alarmSurprise: 2.5 }),
  /** Metrics of one device judged together at most; further ones are left out (counted in `ignored`). */
  maxMetrics: z.number().int().min(2).max(32).default(16),
});
export type MachineConfig = z.output<typeof MachineConfig>;

/** A device's verdict, with the metrics that moved most (name, share of the distance, up or down). */
export interface MachineVerdict extends Verdict {
  readonly moved: readonly { metric: string; share: number; up: boolean }[];
  /** Metrics of this time left out, beyond `maxMetrics` (the first one named), when there were any. */
  readonly leftOut?: { readonly count: number; readonly first: string };
}

/** A device's several metrics at one time (window end or row timestamp). */
export type MachineInput = ReadonlyMap<string, number>;

/** A device detector: judges a device's metrics together, one time step at a time. */
export interface DeviceDetector {
  update(ts: number, values: MachineInput): MachineVerdict;
  /** Takes a metric in before its first value, if within the bound: whether it judges (and holds) the metric's level. */
  claim(metric: string): boolean;
  snapshot(): unknown;
}

interface MetricState {
  level: LevelTrackerState;
  /** This metric's residuals, calibrated on its own (absent in the first version's snapshots). */
  own?: DelayedCalibratorState;
  /** Mean squared residual in normal times (share-weighted, fading), and the weight behind it. */
  meanSquare: number;
  weight: number;
}

interface State {
  metrics: [string, MetricState][];
  /** Mean of z zᵀ in normal times, row-major over `metrics` order (standardised residuals). */
  cov: number[];
  distances: DelayedCalibratorState;
  pending: [number, number[], number][];
  ignored: number;
  /** The largest hold of the current time away (absent in older snapshots). */
  peak?: number;
}

/** Observations (recent spans) of a metric's residual before it counts in the distance. */
const MIN_OBSERVATIONS = 3;

/** A metric with at least this share of the distance moved (it is named, and held to where it was). */
const MOVED_SHARE = 0.05;

/** The metrics with the largest shares of the distance (at most three, each over MOVED_SHARE). */
function moved(shares: number[], names: string[], z: number[]): MachineVerdict['moved'] {
  // Only the metrics over the share are built (a stable sort of those: ties keep their order).
  const out: { metric: string; share: number; up: boolean }[] = [];
  for (let i = 0; i < shares.length; i++)
    if (shares[i]! > MOVED_SHARE) out.push({ metric: names[i]!, share: shares[i]!, up: z[i]! > 0 });
  if (out.length > 1) out.sort((a, b) => b.share - a.share);
  if (out.length > 3) out.length = 3;
  return out;
}

/**
 * A machine: one device's metrics judged together. Each metric's recent level is compared with its
 * own baseline and trend (as the shift member does) and the residual standardised by its usual
 * size; the vector of standardised residuals is measured by its Mahalanobis distance under their
 * usual correlation (learnt in normal times, shrunk towards independence while few observations
 * back it), and that distance is calibrated against the distances this device showed before. So
 * flow dropping while pressure and current stay put, which no metric alone calls rare, can be rare
 * for the machine; and metrics that always move together (two accelerometers) count once. A
 * surprising distance freezes every baseline (the state the machine left) and holds while the
 * machine stays away from it, like `shift`. The verdict names the metrics that moved most (their
 * share of the distance). Bounded: `maxMetrics` metrics, a covariance of their square.
 */
export class Machine implements DeviceDetector {
  /** Every tracker's and calibrator's numbers, in one buffer for the device (stats/slab.ts), not one each. */
  private readonly slab = new Slab();
  private readonly names: string[] = [];
  private readonly metrics: { level: LevelTracker; own: DelayedCalibrator; meanSquare: number; weight: number }[] = [];
  private cov: number[];
  private readonly distances: DelayedCalibrator;
  /** Residual vectors waiting to be learnt (see DelayedCalibrator): [ts, residuals, time since the previous in recent spans]. */
  private readonly pending: [number, number[], number][];
  /** Metrics left out beyond maxMetrics (values offered, not judged). */
  ignored: number;
  private frozenSince: number | null = null;
  private peak: number;
  /** The metric the latest `surprise` found rarest on its own (-1: none); not state. */
  private rarest = -1;
  /** Metrics of the time being judged left out beyond maxMetrics; not state. */
  private leftOut: { count: number; first: string } | undefined;

  constructor(
    private readonly config: MachineConfig,
    snapshot?: unknown,
  ) {
    const s = snapshot as State | undefined;
    for (const [name, m] of s?.metrics ?? []) {
      this.names.push(name);
      this.metrics.push({
        level: new LevelTracker(config.recentMs, config.baselineMs, m.level, this.slab),
        own: this.calibrator(m.own),
        meanSquare: m.meanSquare,
        weight: m.weight,
      });
      if (m.level.frozenSince !== null) this.frozenSince = m.level.frozenSince;
    }
    this.cov = s?.cov ? [...s.cov] : [];
    const c = config.calibration;
    this.distances = new DelayedCalibrator(
      c.halfLifeMs,
      c.tailIndex,
      config.recentMs,
      LEARN_DELAY * config.recentMs,
      s?.distances,
      this.slab,
    );
    this.pending = s?.pending.map(([t, r, w]): [number, number[], number] => [t, [...r], w]) ?? [];
    this.ignored = s?.ignored ?? 0;
    this.peak = s?.peak ?? 0;
  }

  update(ts: number, values: MachineInput): MachineVerdict {
    const verdict = this.judge(ts, values);
    if (this.leftOut === undefined) return verdict;
    const leftOut = this.leftOut;
    this.leftOut = undefined;
    return { ...verdict, leftOut };
  }

  private judge(ts: number, values: MachineInput): MachineVerdict {
    const residuals = new Array<number>(this.metrics.length).fill(Number.NaN);
    let dt = 0;
    for (const [name, x] of values) {
      if (!Number.isFinite(x)) continue;
      const i = this.indexOf(name);
      if (i < 0) {
        this.leftOut = { count: (this.leftOut?.count ?? 0) + 1, first: this.leftOut?.first ?? name };
        continue;
      }
      const m = this.metrics[i]!;
      residuals[i] = m.level.observe(ts, x);
      dt = Math.max(dt, m.level.sinceLast);
    }
    // A metric counts once its usual residual is known from a few observations (before, any residual would look huge).
    const present: number[] = [];
    for (let i = 0; i < residuals.length; i++)
      if (!Number.isNaN(residuals[i]!) && this.metrics[i]!.weight >= MIN_OBSERVATIONS) present.push(i);
    const alarm = this.config.calibration.alarmSurprise;
    const measured = this.measure(residuals, present);
    const { z, shares } = measured;
    let distance = measured.distance;
    if (this.frozenSince !== null) {
      // Held by the metrics that left the state the machine was in (frozen); the others follow their level.
      const held = present.filter((i) => this.metrics[i]!.level.frozenSince !== null);
      // Judged as the opening was: the held metrics were picked among all present, so the rarest of
      // them is corrected for that choice too (held on its own, the one that opened the alert read
      // log10 n more surprising the next second, and the alert held until it was nearly back).
      const hold =
        held.length === 0 ? 0 : this.surprise(this.measure(residuals, held).distance, residuals, held, present.length);
      if (hold >= alarm / 2 && ts - this.frozenSince < this.config.acceptAfterMs) {
        // Further from its usual state than ever since it left is news; staying away is not (as `shift`).
        const news = hold > this.peak ? hold : 0;
        this.peak = Math.max(this.peak, hold);
        this.follow(ts, residuals);
        return this.verdict(news, hold, present, z, shares);
      }
      if (hold >= alarm / 2) {
        // Accepted: a move this large, kept this long, is part of this machine's life (a machine
        // switching on, a new set point); learnt as one observation, so the next one is no news:
        // by the metrics' sizes and correlation first, then its distance as they now measure it.
        // (Its distance as measured before, against a model that had never seen such a move, stayed
        // in the distances' tail for days: a first stop at 196 where later ones read 6 to 9, and any
        // distance below it read at most log10 of the observations since.)
        this.learn(residuals, 1);
        distance = this.measure(residuals, present).distance;
        this.distances.learn(distance);
        for (const i of present) this.metrics[i]!.own.learn(Math.abs(residuals[i]!));
      }
      for (const m of this.metrics) m.level.release(hold >= alarm / 2 ? 'accept' : 'return', ts);
      this.frozenSince = null;
    }
    // Judged once the device has been seen for the warm-up and its distances were learnt from enough
    // observations (a sample size: recent spans, whatever the rows' cadence).
    const age = this.metrics[0]?.level.age(ts) ?? 0;
    const warm =
      age >= this.config.warmupMs &&
      this.distances.observations >= this.config.calibration.observations &&
      present.length >= 2;
    const surprise = warm ? this.surprise(distance, residuals, present) : 0;
    // Learnt from when the baseline spans its own time (before, it is the average of the first few readings).
    if (age >= this.config.baselineMs) this.queue(ts, residuals, distance, dt);
    if (surprise >= alarm) {
      this.frozenSince = ts;
      this.peak = surprise;
      // The machine is held to the state it left in the metrics that left it (those away on their
      // own by the hold's measure, and the rarest one): the others go on following their own level,
      // so a temperature that creeps on neither holds the alert nor is news for it.
      for (const i of present) {
        const m = this.metrics[i]!;
        if (i === this.rarest || m.own.surprise(Math.abs(residuals[i]!)) >= alarm / 2) m.level.freeze(ts);
      }
      this.pending.length = 0;
      this.distances.forget();
      for (const m of this.metrics) m.own.forget();
      return this.verdict(surprise, surprise, present, z, shares);
    }
    this.follow(ts, residuals);
    return this.verdict(surprise, 0, present, z, shares);
  }

  /** Every metric seen at this time that is not held to the state the machine left follows its level. */
  private follow(ts: number, residuals: number[]): void {
    for (let i = 0; i < residuals.length; i++) if (!Number.isNaN(residuals[i]!)) this.metrics[i]!.level.follow(ts);
  }

  snapshot(): State {
    return {
      metrics: this.names.map((name, i) => [
        name,
        {
          level: this.metrics[i]!.level.snapshot(),
          own: this.metrics[i]!.own.snapshot(),
          meanSquare: this.metrics[i]!.meanSquare,
          weight: this.metrics[i]!.weight,
        },
      ]),
      cov: [...this.cov],
      distances: this.distances.snapshot(),
      pending: this.pending.map(([t, r, w]): [number, number[], number] => [t, [...r], w]),
      ignored: this.ignored,
      peak: this.peak,
    };
  }

  claim(metric: string): boolean {
    return this.names.includes(metric) || (this.names.length < this.config.maxMetrics && this.indexOf(metric) >= 0);
  }

  private indexOf(name: string): number {
    const i = this.names.indexOf(name);
    if (i >= 0) return i;
    if (this.names.length >= this.config.maxMetrics) {
      this.ignored++;
      return -1;
    }
    const d = this.names.length;
    this.names.push(name);
    this.metrics.push({
      level: new LevelTracker(this.config.recentMs, this.config.baselineMs, undefined, this.slab),
      own: this.calibrator(),
      meanSquare: 0,
      weight: 0,
    });
    // Grow the covariance by a row and a column: a new metric starts independent of the others.
    const grown = new Array<number>((d + 1) * (d + 1)).fill(0);
    for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) grown[r * (d + 1) + c] = this.cov[r * d + c]!;
    grown[d * (d + 1) + d] = 1;
    this.cov = grown;
    return d;
  }

  /**
   * The Mahalanobis distance of the present metrics' standardised residuals, and each metric's
   * share of its square (z_i · (S⁻¹z)_i / D², which sum to 1). S is the learnt correlation shrunk
   * towards the identity by d / (d + observations): with few observations, nearly independent.
   */
  private measure(residuals: number[], present: number[]): { distance: number; z: number[]; shares: number[] } {
    const k = present.length;
    const z = present.map((i) => residuals[i]! / Math.sqrt(Math.max(this.metrics[i]!.meanSquare, 1e-300)));
    if (k === 0) return { distance: 0, z, shares: [] };
    const d = this.names.length;
    const lambda = d / (d + this.distances.observations);
    const S = new Float64Array(k * k);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++)
        S[a * k + b] = (1 - lambda) * this.cov[present[a]! * d + present[b]!]! + (a === b ? lambda : 0);
    const w = solveSpd(S, z, k);
    let d2 = 0;
    for (let a = 0; a < k; a++) d2 += z[a]! * w[a]!;
    d2 = Math.max(d2, 0);
    const shares = z.map((x, a) => (d2 > 0 ? Math.max(0, (x * w[a]!) / d2) : 0));
    return { distance: Math.sqrt(d2), z, shares };
  }

  /** Queues the residuals for learning; learns those that have waited long enough (see DelayedCalibrator). */
  private calibrator(state?: DelayedCalibratorState): DelayedCalibrator {
    const c = this.config.calibration;
    return new DelayedCalibrator(
      c.halfLifeMs,
      c.tailIndex,
      this.config.recentMs,
      LEARN_DELAY * this.config.recentMs,
      state,
      this.slab,
    );
  }

  /**
   * How rare the machine's state is: the rarer of its joint distance (several metrics off together,
   * or against their usual correlation), calibrated on the device's past, and its rarest single
   * metric (one metric far off, which a distance over many metrics dilutes), each calibrated on its
   * own past, less log10 of the metrics for taking the rarest of several (Bonferroni); less log10 2
   * for taking the rarer of the two. `among`: the metrics the rarest was picked from (a hold's
   * metrics were picked from all present ones).
   */
  private surprise(distance: number, residuals: number[], present: number[], among = present.length): number {
    let single = 0;
    this.rarest = -1;
    for (const i of present) {
      const own = this.metrics[i]!.own.surprise(Math.abs(residuals[i]!));
      if (own > single) {
        single = own;
        this.rarest = i;
      }
    }
    single -= Math.log10(Math.max(1, among));
    return Math.max(0, Math.max(this.distances.surprise(distance), single) - Math.LOG10E * Math.LN2);
  }

  private queue(ts: number, residuals: number[], distance: number, dt: number): void {
    const delay = LEARN_DELAY * this.config.recentMs;
    while (this.pending.length > 0 && (ts - this.pending[0]![0] >= delay || this.pending.length >= 64)) {
      const [, r, spans] = this.pending.shift()!;
      this.learn(r, spans);
    }
    // The residuals are this time's own array, never changed once measured: queued as they are.
    if (dt > 0) this.pending.push([ts, residuals, dt / this.config.recentMs]);
    if (distance > 0) this.distances.queue(ts, distance, dt);
    for (let i = 0; i < residuals.length; i++) {
      const r = residuals[i]!;
      if (!Number.isNaN(r)) this.metrics[i]!.own.queue(ts, Math.abs(r), dt);
    }
  }

  /**
   * Learns one (delayed) residual vector, taken `spans` recent spans after the one before: each
   * metric's usual residual size, then their correlation. It counts as that share of an observation
   * (at most one), and the older ones fade for its time.
   */
  private learn(residuals: number[], spans: number): void {
    const share = Math.min(1, spans);
    const fade = 2 ** ((-spans * this.config.recentMs) / this.config.calibration.halfLifeMs);
    const d = this.names.length;
    const present: number[] = [];
    residuals.forEach((r, i) => {
      if (Number.isNaN(r) || i >= d) return;
      const m = this.metrics[i]!;
      m.weight = m.weight * fade + share;
      m.meanSquare += (share / m.weight) * (r * r - m.meanSquare);
      if (m.meanSquare > 0) present.push(i);
    });
    const z = present.map((i) => residuals[i]! / Math.sqrt(this.metrics[i]!.meanSquare));
    const n = this.distances.observations + share;
    for (let a = 0; a < present.length; a++) {
      for (let b = 0; b < present.length; b++) {
        const at = present[a]! * d + present[b]!;
        this.cov[at] = this.cov[at]! + (share / n) * (z[a]! * z[b]! - this.cov[at]!);
      }
    }
  }

  private verdict(surprise: number, hold: number, present: number[], z: number[], shares: number[]): MachineVerdict {
    const top = moved(
      shares,
      present.map((i) => this.names[i]!),
      z,
    );
    const level = Math.max(surprise, hold);
    if (level === 0) return { score: 0, value: Number.NaN, reason: 'normal', surprise: 0, moved: top };
    const alarm = this.config.calibration.alarmSurprise;
    const words = top.map((m) => `${m.metric} ${m.up ? 'up' : 'down'} (${Math.round(100 * m.share)} %)`).join(', ');
    const since = this.frozenSince === null ? '' : ' since it left its usual state';
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
}

/** Solves S w = z for a symmetric positive definite S (k × k, row-major) by Cholesky. */
function solveSpd(S: Float64Array, z: number[], k: number): number[] {
  const L = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = S[i * k + j]!;
      for (let p = 0; p < j; p++) sum -= L[i * k + p]! * L[j * k + p]!;
      L[i * k + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / L[j * k + j]!;
    }
  }
  const y = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) {
    let sum = z[i]!;
    for (let p = 0; p < i; p++) sum -= L[i * k + p]! * y[p]!;
    y[i] = sum / L[i * k + i]!;
  }
  const w = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let p = i + 1; p < k; p++) sum -= L[p * k + i]! * w[p]!;
    w[i] = sum / L[i * k + i]!;
  }
  return w;
}

export const createMachine = (config: MachineConfig, snapshot?: unknown): DeviceDetector =>
  new Machine(config, snapshot);
