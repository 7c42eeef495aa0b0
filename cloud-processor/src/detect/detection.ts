import type { AlertEvent } from '@tributary/firmware-schemas';
import { openThreshold, type AlertLifecycle, type LifecycleSnapshot } from '../alerts/lifecycle.js';
import { quiet, type Detector, type SeriesPoint, type Verdict } from './detector.js';
import type { DeviceDetector } from './detectors/machine.js';
import type { DetectionPlans, DetectorPlan } from './registry.js';

/** One point of one series as detection takes it: a window result, a stored point or a CSV row. */
export interface SeriesInput extends SeriesPoint {
  readonly device: string;
  readonly metric: string;
  /** Window length (end − start); for raw rows, the series' usual spacing or 0. */
  readonly lengthMs: number;
  /** Readings the agent's range filter removed in this window (out-of-range glitches). */
  readonly outOfRange?: number;
}

/** Alert detector names besides the plan's own (`ensemble`, …). */
export const MISSING_DATA = 'missing-data';
export const OUT_OF_RANGE = 'out-of-range';
/** The device detector's alerts: filed under the metric that moved most when it opened. */
export const MACHINE = 'machine';

/** One device's joint detector, and the metric its open alert is filed under. */
interface Device {
  readonly device: string;
  readonly detector: DeviceDetector;
  lastTs: number;
  filedUnder: string | null;
}

export interface DeviceSnapshot {
  machine: string;
  lastTs: number;
  filedUnder: string | null;
  state: unknown;
}

interface Series {
  readonly device: string;
  readonly metric: string;
  readonly plan: DetectorPlan;
  readonly detector: Detector;
  lastTs: number;
  lengthMs: number;
  agent: string;
}

interface AgentClock {
  /** The last window boundary at which this agent's series were asked about silence. */
  swept: number;
  /**
   * After a restore from a checkpoint, the points between it and the crash will not come again
   * (their batches were acked): the first batch resets the clock instead of judging that gap.
   */
  resync: boolean;
  readonly series: Set<Series>;
}

/** At most this many boundaries are swept in one go (after a long outage the older ones are skipped). */
const MAX_SWEEPS = 1_000;

/** Every detector a series' alerts can come from: its own, and the out-of-range and silence judgements. */
const detectorsOf = (s: Series): string[] => [s.plan.name, OUT_OF_RANGE, MISSING_DATA];

export interface SeriesSnapshot {
  device: string;
  metric: string;
  detector: string;
  agent: string;
  lastTs: number;
  lengthMs: number;
  state: unknown;
}

export interface DetectionSnapshot {
  v: 1;
  series: SeriesSnapshot[];
  /** Devices' joint detectors (absent in older snapshots). */
  devices?: DeviceSnapshot[];
  agents: Array<[string, number]>;
  alerts: LifecycleSnapshot;
}

/**
 * Streaming detection for a fleet: one detector per series (device + metric, built from its
 * metric's plan), bounded by `maxSeries` (the least recently updated is evicted), fed each point
 * once and in order, its verdicts turned into alert transitions by the lifecycle. Also judges
 * silence: each agent's newest window end is its event-time clock; when it has moved a window on,
 * every series of that agent is asked (`tick`) whether it is overdue. And out-of-range readings
 * the agent filtered are alerted on from their count. Pure: the live processor, replay and the
 * benchmark all run exactly this.
 */
export class Detection {
  private readonly series = new Map<string, Series>();
  /** Devices judged as a whole (bounded by maxSeries, least recently seen first out). */
  private readonly devices = new Map<string, Device>();
  private readonly agents = new Map<string, AgentClock>();
  /** Series of the last restore left out: over maxSeries, or their metric has another detector now. */
  skippedOnRestore = 0;
  /** Open alerts of the last restore that no restored series watches, closed; sent with the next ingest. */
  private readonly closedOnRestore: AlertEvent[] = [];

  constructor(
    private readonly plans: DetectionPlans,
    private readonly lifecycle: AlertLifecycle,
    private readonly maxSeries: number,
    private readonly onEvicted: () => void = () => undefined,
    /** Sees every point's verdict from its series' detector (replay uses it to score rows). */
    private readonly onVerdict?: (point: SeriesInput, verdict: Verdict) => void,
    /** A device's metrics of one time beyond what its device detector judges (`count` left out, the first named). */
    private readonly onMetricsLeftOut: (device: string, count: number, first: string) => void = () => undefined,
  ) {}

  get size(): number {
    return this.series.size;
  }

  /**
   * Feeds one agent's points (any order; each series' points older than its last are skipped).
   * `complete`: every window of the agent ending at or before it has now been fed (the batch's
   * watermark); without it, the newest end is not trusted to be complete. Silence is judged at
   * every window boundary up to there, interleaved with the points in time order, so the alerts
   * depend on the points alone, never on how they were cut into batches (replay gives the same).
   */
  ingest(agent: string, points: readonly SeriesInput[], complete?: number): AlertEvent[] {
    // Alerts the last restore closed go out with the first batch after it, as every transition does.
    const alerts: AlertEvent[] = this.closedOnRestore.splice(0);
    // An agent with no series has nothing to judge: batches without windows from ever new agent
    // ids must not grow the table of clocks (an agent's clock goes with its last series).
    if (points.length === 0 && !this.agents.has(agent)) return alerts;
    const clock = this.clockOf(agent);
    const sorted = [...points].sort((a, b) => a.ts - b.ts);
    const newest = sorted.at(-1);
    const horizon = complete ?? (newest ? newest.ts - newest.lengthMs : -Infinity);
    if (clock.resync && newest && newest.lengthMs > 0 && Number.isFinite(horizon)) {
      // Forget the gap since the checkpoint: judge silence only after this batch's horizon.
      clock.swept = Math.floor(horizon / newest.lengthMs) * newest.lengthMs;
      clock.resync = false;
    }
    // A device's points of one time, gathered for its joint detector (judged when its time moves on).
    const rows = new Map<string, { ts: number; values: Map<string, number> }>();
    for (const p of sorted) {
      this.sweep(clock, Math.min(horizon, p.ts - 1), alerts);
      const s = this.seriesFor(p, agent, clock, alerts, sorted);
      if (p.ts <= s.lastTs) continue;
      if (this.plans.device) {
        const row = rows.get(p.device);
        if (row !== undefined && row.ts !== p.ts) this.judgeDevice(p.device, row.ts, row.values, alerts);
        if (row === undefined || row.ts !== p.ts) rows.set(p.device, { ts: p.ts, values: new Map([[p.metric, p.value]]) });
        else row.values.set(p.metric, p.value);
      }
      s.lastTs = p.ts;
      if (p.lengthMs > 0) s.lengthMs = p.lengthMs;
      const threshold = openThreshold(s.plan.sensitivity);
      const verdict = s.detector.update(p);
      this.onVerdict?.(p, verdict);
      this.observe(alerts, s, s.plan.name, verdict, p.ts, threshold);
      const glitches = p.outOfRange ?? 0;
      if (glitches > 0 || this.lifecycle.isOpen(s.device, s.metric, OUT_OF_RANGE)) {
        const verdict: Verdict = glitches > 0 ? { score: 1, value: glitches, reason: `${glitches} reading(s) outside the sensor's physical range, filtered at the gateway` } : quiet(0);
        this.observe(alerts, s, OUT_OF_RANGE, verdict, p.ts, threshold);
      }
    }
    for (const [device, row] of rows) this.judgeDevice(device, row.ts, row.values, alerts);
    this.sweep(clock, horizon, alerts);
    return alerts;
  }

  /** The device's metrics at one time through its joint detector, into the alert lifecycle. */
  private judgeDevice(device: string, ts: number, values: Map<string, number>, alerts: AlertEvent[]): void {
    if (values.size < 2) return;
    const d = this.deviceFor(device, ts, alerts);
    if (d === undefined || ts <= d.lastTs) return;
    d.lastTs = ts;
    const verdict = d.detector.update(ts, values);
    if (verdict.leftOut) this.onMetricsLeftOut(device, verdict.leftOut.count, verdict.leftOut.first);
    const metric = d.filedUnder ?? verdict.moved[0]?.metric ?? [...values.keys()][0]!;
    const alert = this.lifecycle.observe(device, metric, MACHINE, verdict, ts, openThreshold(this.plans('').sensitivity));
    if (!alert) return;
    alerts.push(alert);
    d.filedUnder = alert.state === 'resolved' ? null : metric;
  }

  /** The device's joint detector (built if new, the least recently seen evicted at the bound), or undefined with none configured. */
  private deviceFor(device: string, now: number, alerts: AlertEvent[]): Device | undefined {
    const plan = this.plans.device;
    if (!plan) return undefined;
    let d = this.devices.get(device);
    if (d) this.devices.delete(device); // re-insert below: Map order is recency order
    else {
      if (this.devices.size >= this.maxSeries) this.evictOldestDevice(alerts, now);
      d = { device, detector: plan.create(), lastTs: -Infinity, filedUnder: null };
    }
    this.devices.set(device, d);
    return d;
  }

  private evictOldestDevice(alerts: AlertEvent[], now: number): void {
    const oldest = this.devices.values().next();
    if (oldest.done) return;
    const d = oldest.value;
    this.devices.delete(d.device);
    if (d.filedUnder === null) return;
    const closed = this.lifecycle.close(d.device, d.filedUnder, MACHINE, now, `closed unresolved: the device is no longer watched (detection.maxSeries ${this.maxSeries} reached, it was the least recently seen)`);
    if (closed) alerts.push(closed);
  }

  snapshot(): DetectionSnapshot {
    const [header, ...parts] = [...this.snapshotParts()] as [Omit<DetectionSnapshot, 'series'>, ...(SeriesSnapshot | DeviceSnapshot)[]];
    const devices = parts.filter((p): p is DeviceSnapshot => 'machine' in p);
    return { ...header, series: parts.filter((p): p is SeriesSnapshot => !('machine' in p)), ...(devices.length > 0 ? { devices } : {}) };
  }

  /**
   * The snapshot in parts, for streaming to disk: a header (agents' clocks, alerts), then one
   * entry per series, each taken when it is read. Each entry is consistent on its own; entries
   * read while batches are still processed may be from slightly different moments, which restore
   * tolerates (a series only ever resumes from its own last point).
   */
  *snapshotParts(): Generator<Omit<DetectionSnapshot, 'series'> | SeriesSnapshot | DeviceSnapshot> {
    yield { v: 1, agents: [...this.agents].map(([agent, c]) => [agent, c.swept]), alerts: this.lifecycle.snapshot() };
    for (const s of [...this.series.values()]) {
      yield { device: s.device, metric: s.metric, detector: s.plan.name, agent: s.agent, lastTs: s.lastTs, lengthMs: s.lengthMs, state: s.detector.snapshot() };
    }
    for (const d of [...this.devices.values()]) yield { machine: d.device, lastTs: d.lastTs, filedUnder: d.filedUnder, state: d.detector.snapshot() };
  }

  /**
   * Restores from the parts `snapshotParts` gave (as read back from a checkpoint). False when the
   * parts do not start with a header this version reads (nothing is restored then).
   * `replayFollows`: every batch after the checkpoint will come again, in order (a cluster
   * partition replays its stream from the checkpoint's position), so the gap since the checkpoint
   * is judged as live was, instead of being skipped (see AgentClock.resync).
   */
  restoreParts(parts: Iterable<unknown>, replayFollows = false): boolean {
    const it = parts[Symbol.iterator]();
    const first = it.next();
    const header = first.value as Omit<DetectionSnapshot, 'series'> | undefined;
    if (first.done === true || header?.v !== 1) return false;
    this.restoreAgents(header.agents, !replayFollows);
    // One series at a time: its parsed state is garbage as soon as its detector is built.
    for (let next = it.next(); next.done !== true; next = it.next()) {
      const part = next.value as SeriesSnapshot | DeviceSnapshot;
      if ('machine' in part) this.restoreDevice(part);
      else this.restoreSeries(part);
    }
    this.restoreAlerts(header);
    return true;
  }

  /** Restores state saved by `snapshot`; series whose metric now has another detector start afresh. */
  restore(snapshot: DetectionSnapshot): void {
    this.restoreAgents(snapshot.agents, true);
    for (const r of snapshot.series) this.restoreSeries(r);
    for (const d of snapshot.devices ?? []) this.restoreDevice(d);
    this.restoreAlerts(snapshot);
  }

  /** Open alerts closed by the last restore (they go out with the next ingest). */
  get alertsClosedOnRestore(): number {
    return this.closedOnRestore.length;
  }

  /**
   * Restores the open alerts, then closes those no restored series watches (its series was left
   * out or damaged, or its metric has another detector now): nothing could ever resolve them, and
   * they would hold places under alerts.maxOpen for good.
   */
  private restoreAlerts(header: Omit<DetectionSnapshot, 'series'>): void {
    this.lifecycle.restore(header.alerts);
    // Event time, as every transition: the newest any agent's clock had reached (close() takes the opening time if later).
    let now = -Infinity;
    for (const [, swept] of header.agents) if (Number.isFinite(swept) && swept > now) now = swept;
    const why = 'closed unresolved: the series is no longer watched (its detector state was not restored from the checkpoint)';
    for (const a of this.lifecycle.openAlerts()) {
      const s = this.series.get(`${a.device}\u0000${a.metric}`);
      if (s !== undefined && detectorsOf(s).includes(a.detector)) continue;
      if (a.detector === MACHINE && this.devices.get(a.device)?.filedUnder === a.metric) continue;
      const closed = this.lifecycle.close(a.device, a.metric, a.detector, now, why);
      if (closed) this.closedOnRestore.push(closed);
    }
  }

  private restoreAgents(agents: DetectionSnapshot['agents'], resync: boolean): void {
    for (const [agent, swept] of agents) {
      const clock = this.clockOf(agent);
      clock.swept = swept;
      clock.resync = resync;
    }
  }

  private restoreDevice(r: DeviceSnapshot): void {
    const plan = this.plans.device;
    if (!plan) return;
    if (this.devices.size >= this.maxSeries) this.devices.delete(this.devices.keys().next().value as string);
    this.devices.set(r.machine, { device: r.machine, detector: plan.create(r.state), lastTs: r.lastTs, filedUnder: r.filedUnder });
  }

  private restoreSeries(r: SeriesSnapshot): void {
    const plan = this.plans(r.metric);
    if (plan.name !== r.detector) {
      this.skippedOnRestore++;
      return;
    }
    if (this.series.size >= this.maxSeries) {
      // Snapshots list series from the least to the most recently seen: keep the newest maxSeries.
      this.forgetOldest();
      this.skippedOnRestore++;
    }
    const s: Series = { device: r.device, metric: r.metric, plan, detector: plan.create(r.state, { windowMs: r.lengthMs }), lastTs: r.lastTs, lengthMs: r.lengthMs, agent: r.agent };
    this.series.set(`${r.device}\u0000${r.metric}`, s);
    this.clockOf(r.agent).series.add(s);
  }

  private observe(alerts: AlertEvent[], s: Series, detector: string, verdict: Verdict, ts: number, threshold: number): void {
    const alert = this.lifecycle.observe(s.device, s.metric, detector, verdict, ts, threshold);
    if (alert) alerts.push(alert);
  }

  /**
   * Asks the agent's series about silence at each window boundary t after the last one swept and
   * up to `upTo`. `tick` gets t plus a window, the earliest time the next window could still come:
   * a series that reported at t is then one cadence behind, one that missed t two.
   */
  private sweep(clock: AgentClock, upTo: number, alerts: AlertEvent[]): void {
    let step = Infinity;
    for (const s of clock.series) if (s.lengthMs > 0 && s.lengthMs < step) step = s.lengthMs;
    if (!Number.isFinite(step) || !Number.isFinite(upTo)) return;
    const last = Math.floor(upTo / step) * step;
    let t = Number.isFinite(clock.swept) ? clock.swept + step : last;
    if ((last - t) / step > MAX_SWEEPS) t = last - MAX_SWEEPS * step;
    for (; t <= last; t += step) {
      clock.swept = t;
      for (const s of clock.series) {
        if (s.lastTs === -Infinity) continue;
        const silent = s.lastTs < t;
        if (!silent && !this.lifecycle.isOpen(s.device, s.metric, MISSING_DATA)) continue;
        const verdict = silent && s.detector.tick ? s.detector.tick(t + s.lengthMs) : quiet(Number.NaN);
        this.observe(alerts, s, MISSING_DATA, verdict, t, openThreshold(s.plan.sensitivity));
      }
    }
  }

  private clockOf(agent: string): AgentClock {
    let c = this.agents.get(agent);
    if (!c) {
      c = { swept: -Infinity, resync: false, series: new Set() };
      this.agents.set(agent, c);
    }
    return c;
  }

  private seriesFor(p: SeriesInput, agent: string, clock: AgentClock, alerts: AlertEvent[], batch: readonly SeriesInput[]): Series {
    const key = `${p.device}\u0000${p.metric}`;
    let s = this.series.get(key);
    if (s) {
      this.series.delete(key); // re-insert below: Map order is recency order
    } else {
      if (this.series.size >= this.maxSeries) this.evictOldest(alerts, p.ts);
      const plan = this.plans(p.metric);
      // The device detector judges a device's metrics of one time together: where this series'
      // point comes with another metric of its device at its time, and the device detector takes
      // this metric in (within its bound), the series' level shifts are the device's.
      const together = this.plans.device !== undefined && batch.some((q) => q.device === p.device && q.ts === p.ts && q.metric !== p.metric);
      const levels = together && this.deviceFor(p.device, p.ts, alerts)?.detector.claim(p.metric) === true ? 'device' : 'series';
      s = { device: p.device, metric: p.metric, plan, detector: plan.create(undefined, { windowMs: p.lengthMs, levels }), lastTs: -Infinity, lengthMs: p.lengthMs, agent };
      clock.series.add(s);
    }
    if (s.agent !== agent) {
      // A device that moved to another gateway follows that gateway's clock.
      this.leave(s);
      s.agent = agent;
      clock.series.add(s);
    }
    this.series.set(key, s);
    return s;
  }

  /** Takes a series off its agent's clock; an agent with no series left is forgotten. */
  private leave(s: Series): void {
    const clock = this.agents.get(s.agent);
    if (!clock) return;
    clock.series.delete(s);
    if (clock.series.size === 0) this.agents.delete(s.agent);
  }

  /** Takes the least recently seen series out of the table and off its agent's clock. */
  private forgetOldest(): Series | undefined {
    const oldest = this.series.values().next();
    if (oldest.done) return undefined;
    const s = oldest.value;
    this.series.delete(`${s.device}\u0000${s.metric}`);
    this.leave(s);
    return s;
  }

  /** Forgets the least recently seen series, closing its open alerts at `now` (nothing else would resolve them). */
  private evictOldest(alerts: AlertEvent[], now: number): void {
    const s = this.forgetOldest();
    if (s === undefined) return;
    const why = `closed unresolved: the series is no longer watched (detection.maxSeries ${this.maxSeries} reached, it was the least recently seen)`;
    for (const detector of detectorsOf(s)) {
      const closed = this.lifecycle.close(s.device, s.metric, detector, now, why);
      if (closed) alerts.push(closed);
    }
    this.onEvicted();
  }
}
