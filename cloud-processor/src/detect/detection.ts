import type { AlertEvent } from '@tributary/firmware-schemas';
import type { AlertLifecycle } from '../alerts/lifecycle.js';
import { quiet, QUIET_SILENCE, reuseVerdicts, type SeriesPoint, type Verdict } from './detector.js';
import type { DetectionPlans } from './registry.js';
import type { AgentClock } from './agent-clocks.js';
import { DetectionState } from './detection-state.js';
import { MACHINE, type DeviceSnapshot } from './device-detection.js';
import {
  MISSING_DATA,
  OPEN_MISSING,
  OPEN_OUT_OF_RANGE,
  OPEN_PLAN,
  OUT_OF_RANGE,
  detectorsOf,
  newSeries,
  type Series,
} from './series-table.js';

/** One point of one series as detection takes it: a window result, a stored point or a CSV row. */
export interface SeriesInput extends SeriesPoint {
  readonly device: string;
  readonly metric: string;
  /** Window length (end − start); for raw rows, the series' usual spacing or 0. */
  readonly lengthMs: number;
  /**
   * Readings the agent's range filter removed in this window (out-of-range glitches). With
   * `count` 0 they were all its readings: it has no value (NaN statistics) and is judged by this alone.
   */
  readonly outOfRange?: number;
}

export { MACHINE, MISSING_DATA, OUT_OF_RANGE, type DeviceSnapshot };
export type { DetectionSnapshot, SeriesSnapshot } from './detection-state.js';

/** At most this many boundaries are swept in one go (after a long outage the older ones are skipped). */
const MAX_SWEEPS = 1_000;

/** The points by event time, oldest first (a stable sort: equal times keep their order); the array itself when it already is. */
function byTime(points: readonly SeriesInput[]): readonly SeriesInput[] {
  for (let i = 1; i < points.length; i++)
    if (points[i]!.ts < points[i - 1]!.ts) return [...points].sort((a, b) => a.ts - b.ts);
  return points;
}

/**
 * Streaming detection for a fleet: one detector per series (device + metric, built from its
 * metric's plan), bounded by `maxSeries` (the least recently updated is evicted), fed each point
 * once and in order, its verdicts turned into alert transitions by the lifecycle. Also judges
 * silence: each agent's newest window end is its event-time clock; when it has moved a window on,
 * every series of that agent is asked (`tick`) whether it is overdue. And out-of-range readings
 * the agent filtered are alerted on from their count. With a device plan, each device's metrics
 * of one time are also judged together (DeviceDetection). Pure: the live processor, replay and
 * the benchmark all run exactly this.
 */
export class Detection extends DetectionState {
  constructor(
    plans: DetectionPlans,
    lifecycle: AlertLifecycle,
    maxSeries: number,
    private readonly onEvicted: () => void = () => undefined,
    /**
     * Sees every point's verdict from its series' detector (replay uses it to score rows): a verdict
     * of its own, which it may keep (with this hook the series' verdicts are not answered in the
     * thread's one reused verdict, detector.ts reuseVerdicts).
     */
    private readonly onVerdict?: (point: SeriesInput, verdict: Verdict) => void,
    /** A device's metrics of one time beyond what its device detector judges (`count` left out, the first named). */
    onMetricsLeftOut: (device: string, count: number, first: string) => void = () => undefined,
  ) {
    super(plans, lifecycle, maxSeries, onMetricsLeftOut);
  }

  /**
   * Feeds one agent's points (any order; each series' points older than its last are skipped).
   * `complete`: every window of the agent ending at or before it has now been fed (the batch's
   * watermark); without it, the newest end is not trusted to be complete. Silence is judged at
   * every window boundary up to there, interleaved with the points in time order, and at each
   * boundary a series' own later point passes (sweepSeries), so the alerts depend on the points
   * alone, never on how they were cut into batches nor on how far the watermark lagged behind
   * them (replay gives the same).
   */
  ingest(agent: string, points: readonly SeriesInput[], complete?: number): AlertEvent[] {
    // The newest point: the last of those with the latest time (the one a stable sort puts last).
    let newest: SeriesInput | undefined;
    for (const p of points) if (newest === undefined || p.ts >= newest.ts) newest = p;
    const horizon = complete ?? (newest ? newest.ts - newest.lengthMs : -Infinity);
    return this.ingestPart(agent, points, horizon, newest?.lengthMs);
  }

  /**
   * Feeds one agent's points as `ingest` does, given what only the whole batch knows: `horizon`,
   * up to which silence is judged, and the window length of its newest point (for a resync after
   * a restore; undefined when the batch had no points). A Detection holding some of the devices
   * (a worker's share: every series of each) gets its part of every batch this way, with no
   * points when none of the batch's devices is its: its clocks then judge silence, and its
   * devices their rows, exactly as one Detection of every series would.
   */
  ingestPart(
    agent: string,
    points: readonly SeriesInput[],
    horizon: number,
    newestLengthMs: number | undefined,
  ): AlertEvent[] {
    // Alerts the last restore closed go out with the first batch after it, as every transition does.
    const alerts: AlertEvent[] = this.closedOnRestore.splice(0);
    // An agent with no series has nothing to judge: batches without windows from ever new agent
    // ids must not grow the table of clocks (an agent's clock goes with its last series).
    if (points.length === 0 && !this.agents.has(agent)) return alerts;
    const clock = this.agents.of(agent);
    if (clock.resync && newestLengthMs !== undefined && newestLengthMs > 0 && Number.isFinite(horizon)) {
      // Forget the gap since the checkpoint: judge silence only after this batch's horizon.
      clock.swept = Math.floor(horizon / newestLengthMs) * newestLengthMs;
      clock.resync = false;
    }
    // A batch in order (every earlier one fed: the processor passes no horizon otherwise) holds
    // each series' points after all its earlier ones, so a point also settles its own series'
    // silence at the boundaries before it that the horizon has not reached (see sweepSeries).
    const inOrder = Number.isFinite(horizon) && !clock.resync;
    const sorted = byTime(points);
    for (const p of sorted) {
      this.sweep(clock, Math.min(horizon, p.ts - 1), alerts);
      const s = this.seriesFor(p, agent, clock, alerts, sorted);
      if (p.ts <= s.lastTs) continue;
      if (inOrder) this.sweepSeries(clock, s, p.ts - 1, alerts);
      s.lastTs = p.ts;
      if (p.lengthMs > 0 && p.lengthMs !== s.lengthMs) {
        s.lengthMs = p.lengthMs;
        clock.step = undefined;
      }
      if (p.count > 0) {
        this.devices?.offer(p.device, p.metric, p.ts, p.value, alerts);
        // Read at once (here and by the lifecycle, which copies what it keeps): the detector may
        // answer in the thread's one reused verdict instead of a new object; not for onVerdict,
        // whose caller may keep it (a spread or JSON copy would lose the reused one's reason).
        const reuse = reuseVerdicts(this.onVerdict === undefined);
        try {
          const verdict = s.detector.update(p);
          this.onVerdict?.(p, verdict);
          this.observe(alerts, s, OPEN_PLAN, s.plan.name, verdict, p.ts);
        } finally {
          reuseVerdicts(reuse);
        }
      } else {
        // Every reading of the window was out of range (count 0, no value): the sensor spoke, so
        // it is not silent (lastTs above; `heard` for detectors that judge silence), and the
        // value detectors are not fed a window that has no value. The glitch is judged below.
        s.detector.heard?.(p.ts);
      }
      const glitches = p.outOfRange ?? 0;
      if (glitches > 0 || (s.open & OPEN_OUT_OF_RANGE) !== 0) {
        const verdict: Verdict =
          glitches > 0
            ? {
                score: 1,
                value: glitches,
                reason: `${glitches} reading(s) outside the sensor's physical range, filtered at the gateway`,
              }
            : quiet(0);
        this.observe(alerts, s, OPEN_OUT_OF_RANGE, OUT_OF_RANGE, verdict, p.ts);
      }
    }
    this.devices?.flush(alerts);
    this.sweep(clock, horizon, alerts);
    return alerts;
  }

  /**
   * Hands a verdict to the lifecycle, and notes whether the alert of (series, `bit`'s detector)
   * is now open. A verdict that cannot open an alert (the lifecycle opens on the score) on a
   * series without that alert open changes nothing there, so it is not handed over.
   */
  private observe(alerts: AlertEvent[], s: Series, bit: number, detector: string, verdict: Verdict, ts: number): void {
    if ((s.open & bit) === 0 && verdict.score < s.threshold) return;
    const alert = this.lifecycle.observe(s.device, s.metric, detector, verdict, ts, s.threshold);
    if (alert === undefined) return;
    if (alert.state === 'opened') s.open |= bit;
    else if (alert.state === 'resolved') s.open &= ~bit;
    alerts.push(alert);
  }

  /**
   * Asks the agent's series about silence at each window boundary t after the last one swept and
   * up to `upTo`. A series with a point after t was asked at t before that point was fed
   * (sweepSeries), or, fed out of order, is not asked.
   */
  private sweep(clock: AgentClock, upTo: number, alerts: AlertEvent[]): void {
    const step = this.agents.step(clock);
    if (!Number.isFinite(step) || !Number.isFinite(upTo)) return;
    const last = Math.floor(upTo / step) * step;
    let t = Number.isFinite(clock.swept) ? clock.swept + step : last;
    if ((last - t) / step > MAX_SWEEPS) t = last - MAX_SWEEPS * step;
    for (; t <= last; t += step) {
      clock.swept = t;
      for (const s of clock.series) if (s.lastTs <= t) this.judgeSilence(s, t, alerts);
    }
  }

  /**
   * Before a point at `upTo` + 1 is fed to `s`: asks `s` about silence at each boundary up to
   * `upTo` that neither the agent's clock (sweep) nor an earlier point of `s` has reached. An
   * agent's watermark moves at its own ticks and with its slowest device, so a batch's points may
   * run windows ahead of it; judged only when the watermark passed them, those boundaries would
   * see the series' later points, and whether a silence is found would depend on how far the
   * watermark lagged when the batch was sealed (a loaded gateway's timer runs late). Judged here,
   * each boundary sees exactly the points up to it, as replay (points and boundaries interleaved
   * in time order) does.
   */
  private sweepSeries(clock: AgentClock, s: Series, upTo: number, alerts: AlertEvent[]): void {
    if (s.lastTs === -Infinity) return;
    const step = this.agents.step(clock);
    if (!Number.isFinite(step)) return;
    const last = Math.floor(upTo / step) * step;
    // Asked already: every boundary before its last point, and every one the clock swept.
    let t = Math.max(clock.swept, Math.floor((s.lastTs - 1) / step) * step) + step;
    if ((last - t) / step > MAX_SWEEPS) t = last - MAX_SWEEPS * step;
    for (; t <= last; t += step) this.judgeSilence(s, t, alerts);
  }

  /**
   * Whether `s`, whose newest point is at or before boundary t, is silent there. `tick` gets t plus
   * a window, the earliest time the next window could still come: a series that reported at t is
   * then one cadence behind, one that missed t two.
   */
  private judgeSilence(s: Series, t: number, alerts: AlertEvent[]): void {
    if (s.lastTs === -Infinity) return;
    const silent = s.lastTs < t;
    if (!silent && (s.open & OPEN_MISSING) === 0) return;
    // Read at once, as a point's verdict (ingestPart).
    const reuse = reuseVerdicts(true);
    try {
      const verdict = silent && s.detector.tick ? s.detector.tick(t + s.lengthMs) : QUIET_SILENCE;
      this.observe(alerts, s, OPEN_MISSING, MISSING_DATA, verdict, t);
    } finally {
      reuseVerdicts(reuse);
    }
  }

  private seriesFor(
    p: SeriesInput,
    agent: string,
    clock: AgentClock,
    alerts: AlertEvent[],
    batch: readonly SeriesInput[],
  ): Series {
    let s = this.series.get(p.device, p.metric);
    if (s) {
      this.series.touch(s);
    } else {
      if (this.series.size >= this.maxSeries) this.evictOldest(alerts, p.ts);
      const plan = this.plans(p.metric);
      // The device detector judges a device's metrics of one time together: where this series'
      // point comes with another metric of its device at its time, and the device detector takes
      // this metric in (within its bound), the series' level shifts are the device's.
      const together =
        this.devices !== undefined &&
        batch.some((q) => q.device === p.device && q.ts === p.ts && q.metric !== p.metric);
      const levels =
        together && this.devices?.deviceFor(p.device, p.ts, alerts)?.detector.claim(p.metric) === true
          ? 'device'
          : 'series';
      s = newSeries(
        p.device,
        p.metric,
        plan,
        plan.create(undefined, { windowMs: p.lengthMs, levels }),
        -Infinity,
        p.lengthMs,
        agent,
      );
      this.series.add(s);
      this.agents.join(clock, s);
    }
    if (s.agent !== agent) {
      // A device that moved to another gateway follows that gateway's clock.
      this.agents.leave(s);
      s.agent = agent;
      this.agents.join(clock, s);
    }
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
