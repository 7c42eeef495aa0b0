import type { DelayedCalibrator, DelayedCalibratorState } from '../stats/delayed-calibrator.js';
import { Slab } from '../stats/slab.js';
import type { DeviceDetector, MachineConfig, MachineInput, MachineVerdict } from './machine-config.js';
import { growCovariance, learnCorrelation, mahalanobis } from './machine-distance.js';
import { machineVerdict, moved } from './machine-verdict.js';
import { room, scratch, type Measure } from './machine-scratch.js';
import { MachineMetric, machineCalibrator, type MachineMetricState } from './machine-metric.js';
import { LEARN_DELAY } from './shift.js';

export { MachineConfig, type DeviceDetector, type MachineInput, type MachineVerdict } from './machine-config.js';

interface State {
  metrics: [string, MachineMetricState][];
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
  private readonly metrics: MachineMetric[] = [];
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
      this.metrics.push(new MachineMetric(config, this.slab, m));
      if (m.level.frozenSince !== null) this.frozenSince = m.level.frozenSince;
    }
    this.cov = s?.cov ? [...s.cov] : [];
    this.distances = machineCalibrator(config, this.slab, s?.distances);
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
    room(residuals.length);
    // A metric counts once its usual residual is known from a few observations (before, any residual would look huge).
    const present = scratch.judged;
    let k = 0;
    for (let i = 0; i < residuals.length; i++)
      if (!Number.isNaN(residuals[i]!) && this.metrics[i]!.weight >= MIN_OBSERVATIONS) present[k++] = i;
    const alarm = this.config.calibration.alarmSurprise;
    let distance = this.measure(residuals, present, k, scratch.named);
    let accepted = false;
    if (this.frozenSince !== null) {
      // Held by the metrics that left the state the machine was in (frozen); the others follow their level.
      const held = scratch.held;
      let h = 0;
      for (let a = 0; a < k; a++) if (this.metrics[present[a]!]!.level.frozenSince !== null) held[h++] = present[a]!;
      // Judged as the opening was: the held metrics were picked among all present, so the rarest of
      // them is corrected for that choice too (held on its own, the one that opened the alert read
      // log10 n more surprising the next second, and the alert held until it was nearly back).
      const hold = h === 0 ? 0 : this.surprise(this.measure(residuals, held, h, scratch.other), residuals, held, h, k);
      if (hold >= alarm / 2 && ts - this.frozenSince < this.config.acceptAfterMs) {
        // Further from its usual state than ever since it left is news; staying away is not (as `shift`).
        const news = hold > this.peak ? hold : 0;
        this.peak = Math.max(this.peak, hold);
        this.follow(ts, residuals);
        return this.verdict(news, hold, present, k);
      }
      if (hold >= alarm / 2) {
        // Accepted: a move this large, kept this long, is part of this machine's life (a machine
        // switching on, a new set point); learnt as one observation, so the next one is no news:
        // by the metrics' sizes and correlation first, then its distance as they now measure it.
        // (Its distance as measured before, against a model that had never seen such a move, stayed
        // in the distances' tail for days: a first stop at 196 where later ones read 6 to 9, and any
        // distance below it read at most log10 of the observations since.)
        this.learn(residuals, 1);
        accepted = true;
        distance = this.measure(residuals, present, k, scratch.other);
        this.distances.learn(distance);
        for (let a = 0; a < k; a++) this.metrics[present[a]!]!.own.learn(Math.abs(residuals[present[a]!]!));
      }
      for (const m of this.metrics) m.release(hold >= alarm / 2 ? 'accept' : 'return', ts);
      this.frozenSince = null;
      if (accepted) {
        this.follow(ts, residuals);
        return this.verdict(0, 0, present, k);
      }
    }
    // Judged once the device has been seen for the warm-up and its distances were learnt from enough
    // observations (a sample size: recent spans, whatever the rows' cadence).
    const age = this.metrics[0]?.level.age(ts) ?? 0;
    const warm =
      age >= this.config.warmupMs && this.distances.observations >= this.config.calibration.observations && k >= 2;
    // The joint distance is judged by what moved within the baseline's span: a residual that built up
    // over longer (a room filling after a weekend, a trend bending) is not a level that moved. The
    // rarest single metric is judged by what moved too once its residual has stayed on one side for
    // longer than that span, and by its whole residual before: a pump's flow that falls over half a
    // minute, judged by what moved, was cut by a fifth (live SKAB CP 31.40 → 28.10).
    const { fresh, alone } = scratch;
    for (let i = 0; i < residuals.length; i++) {
      const r = residuals[i]!;
      fresh[i] = Number.isNaN(r) ? r : this.metrics[i]!.fresh(r);
      alone[i] = Number.isNaN(r) ? r : this.metrics[i]!.alone(r, fresh[i]!);
    }
    const freshDistance = this.measure(fresh, present, k, scratch.other);
    const surprise = warm ? this.surprise(freshDistance, alone, present, k) : 0;
    // Learnt from when the baseline spans its own time (before, it is the average of the first few readings).
    if (age >= this.config.baselineMs) this.queue(ts, residuals, distance, dt);
    if (surprise >= alarm) {
      this.frozenSince = ts;
      this.peak = surprise;
      // The machine is held to the state it left in the metrics that left it (those away on their
      // own by the hold's measure, and the rarest one): the others go on following their own level,
      // so a temperature that creeps on neither holds the alert nor is news for it.
      for (let a = 0; a < k; a++) {
        const i = present[a]!;
        const m = this.metrics[i]!;
        if (i === this.rarest || m.own.surprise(Math.abs(residuals[i]!)) >= alarm / 2) m.level.freeze(ts);
      }
      this.pending.length = 0;
      this.distances.forget();
      for (const m of this.metrics) m.own.forget();
      return this.verdict(surprise, surprise, present, k);
    }
    this.follow(ts, residuals);
    return this.verdict(surprise, 0, present, k);
  }

  /** Every metric seen at this time that is not held to the state the machine left follows its level. */
  private follow(ts: number, residuals: number[]): void {
    for (let i = 0; i < residuals.length; i++) if (!Number.isNaN(residuals[i]!)) this.metrics[i]!.level.follow(ts);
  }

  snapshot(): State {
    return {
      metrics: this.names.map((name, i) => [name, this.metrics[i]!.snapshot()]),
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
    this.metrics.push(new MachineMetric(this.config, this.slab));
    this.cov = growCovariance(this.cov, d);
    return d;
  }

  /**
   * The Mahalanobis distance of the first k present metrics' standardised residuals (each over its
   * usual size, into `into.z`), and each one's share (into `into.shares`; machine-distance.ts), under
   * the learnt correlation shrunk towards independence by d / (d + observations).
   */
  private measure(residuals: ArrayLike<number>, present: Int32Array, k: number, into: Measure): number {
    const z = into.z;
    for (let a = 0; a < k; a++) {
      const i = present[a]!;
      z[a] = residuals[i]! / Math.sqrt(Math.max(this.metrics[i]!.meanSquare, 1e-300));
    }
    const d = this.names.length;
    return mahalanobis(this.cov, d, present, k, z, d / (d + this.distances.observations), into.shares);
  }

  /**
   * How rare the machine's state is: the rarer of its joint distance (several metrics off together,
   * or against their usual correlation), calibrated on the device's past, and its rarest single
   * metric (one metric far off, which a distance over many metrics dilutes), each calibrated on its
   * own past, less log10 of the metrics for taking the rarest of several (Bonferroni); less log10 2
   * for taking the rarer of the two, over the first k metrics of `present`. `among`: the metrics the
   * rarest was picked from (a hold's metrics were picked from all present ones).
   */
  private surprise(distance: number, residuals: ArrayLike<number>, present: Int32Array, k: number, among = k): number {
    let single = 0;
    this.rarest = -1;
    for (let a = 0; a < k; a++) {
      const i = present[a]!;
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
    // The scratch has room for d already: `learn` runs inside `judge`, which made it (growing it here would lose the verdict's measure).
    const { learnt, learntZ } = scratch;
    let k = 0;
    for (let i = 0; i < residuals.length && i < d; i++) {
      const r = residuals[i]!;
      if (Number.isNaN(r)) continue;
      const m = this.metrics[i]!;
      m.learn(r, share, fade);
      if (m.meanSquare > 0) learnt[k++] = i;
    }
    for (let a = 0; a < k; a++) learntZ[a] = residuals[learnt[a]!]! / Math.sqrt(this.metrics[learnt[a]!]!.meanSquare);
    learnCorrelation(this.cov, d, learnt, k, learntZ, share, this.distances.observations + share);
  }

  /** The verdict, naming the metrics that moved by the first measure of the time (`named`). */
  private verdict(surprise: number, hold: number, present: Int32Array, k: number): MachineVerdict {
    return machineVerdict(
      surprise,
      hold,
      this.config.calibration.alarmSurprise,
      moved(scratch.named.shares, scratch.named.z, present, k, this.names),
      this.frozenSince !== null,
    );
  }
}

export const createMachine = (config: MachineConfig, snapshot?: unknown): DeviceDetector =>
  new Machine(config, snapshot);
