import type { AlertEvent } from '@tributary/firmware-schemas';
import { openThreshold, type AlertLifecycle, type LifecycleSnapshot } from '../alerts/lifecycle.js';
import type { DetectionPlans } from './registry.js';
import { AgentClocks } from './agent-clocks.js';
import { DeviceDetection, MACHINE, type DeviceSnapshot } from './device-detection.js';
import { SeriesTable, detectorsOf, newSeries, openBit, type Series } from './series-table.js';

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
  agents: Array<[string, number]>;
  alerts: LifecycleSnapshot;
  /** Devices' joint detectors (absent in older snapshots). */
  devices?: DeviceSnapshot[];
}

/**
 * What detection holds (its series, devices, agents' clocks and the alert lifecycle, bounded by
 * `maxSeries`) and its checkpoint: snapshot in parts and restore. Detection (detection.ts) feeds it.
 */
export class DetectionState {
  protected readonly series = new SeriesTable();
  protected readonly agents = new AgentClocks();
  /** Devices judged as a whole (bounded by maxSeries too); absent when `devices.detector` is `none`. */
  protected readonly devices: DeviceDetection | undefined;
  /** Series of the last restore left out: over maxSeries, or their metric has another detector now. */
  skippedOnRestore = 0;
  /** Open alerts of the last restore that no restored series watches, closed; sent with the next ingest. */
  protected readonly closedOnRestore: AlertEvent[] = [];

  constructor(
    protected readonly plans: DetectionPlans,
    protected readonly lifecycle: AlertLifecycle,
    protected readonly maxSeries: number,
    /** A device's metrics of one time beyond what its device detector judges (`count` left out, the first named). */
    onMetricsLeftOut: (device: string, count: number, first: string) => void,
  ) {
    if (plans.device)
      this.devices = new DeviceDetection(
        plans.device,
        lifecycle,
        maxSeries,
        openThreshold(plans('').sensitivity),
        onMetricsLeftOut,
      );
  }

  get size(): number {
    return this.series.size;
  }

  snapshot(): DetectionSnapshot {
    const [header, ...parts] = [...this.snapshotParts()] as [
      Omit<DetectionSnapshot, 'series'>,
      ...(SeriesSnapshot | DeviceSnapshot)[],
    ];
    const devices = parts.filter(isDevicePart);
    return {
      ...header,
      series: parts.filter((p): p is SeriesSnapshot => !isDevicePart(p)),
      ...(devices.length > 0 ? { devices } : {}),
    };
  }

  /**
   * The snapshot in parts, for streaming to disk: a header (agents' clocks, alerts), then one
   * entry per series and one per device, each taken when it is read. Each entry is consistent on
   * its own; entries read while batches are still processed may be from slightly different
   * moments, which restore tolerates (a series only ever resumes from its own last point).
   */
  *snapshotParts(): Generator<Omit<DetectionSnapshot, 'series'> | SeriesSnapshot | DeviceSnapshot> {
    yield { v: 1, agents: this.agents.swept(), alerts: this.lifecycle.snapshot() };
    for (const s of [...this.series.values()]) {
      yield {
        device: s.device,
        metric: s.metric,
        detector: s.plan.name,
        agent: s.agent,
        lastTs: s.lastTs,
        lengthMs: s.lengthMs,
        state: s.detector.snapshot(),
      };
    }
    if (this.devices) yield* this.devices.snapshotParts();
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
    // One part at a time: its parsed state is garbage as soon as its detector is built.
    for (let next = it.next(); next.done !== true; next = it.next())
      this.restorePart(next.value as SeriesSnapshot | DeviceSnapshot);
    this.restoreAlerts(header);
    return true;
  }

  /** Restores state saved by `snapshot` (as restoreParts); series whose metric now has another detector start afresh. */
  restore(snapshot: DetectionSnapshot): void {
    const { series, devices = [], ...header } = snapshot;
    this.restoreParts([header, ...series, ...devices]);
  }

  /** Open alerts closed by the last restore (they go out with the next ingest). */
  get alertsClosedOnRestore(): number {
    return this.closedOnRestore.length;
  }

  /**
   * The last step of a restore (after the agents' clocks and the series): restores the open
   * alerts, then closes those no restored series watches (its series was left out or damaged, or
   * its metric has another detector now): nothing could ever resolve them, and they would hold
   * places under alerts.maxOpen for good.
   */
  restoreAlerts(header: Omit<DetectionSnapshot, 'series'>): void {
    this.lifecycle.restore(header.alerts);
    // Event time, as every transition: the newest any agent's clock had reached (close() takes the opening time if later).
    let now = -Infinity;
    for (const [, swept] of header.agents) if (Number.isFinite(swept) && swept > now) now = swept;
    const why =
      'closed unresolved: the series is no longer watched (its detector state was not restored from the checkpoint)';
    for (const a of this.lifecycle.openAlerts()) {
      const s = this.series.get(a.device, a.metric);
      if (s !== undefined && detectorsOf(s).includes(a.detector)) {
        s.open |= openBit(s, a.detector);
        continue;
      }
      if (a.detector === MACHINE && this.devices?.watches(a.device, a.metric) === true) continue;
      const closed = this.lifecycle.close(a.device, a.metric, a.detector, now, why);
      if (closed) this.closedOnRestore.push(closed);
    }
  }

  /** The first step of a restore: the agents' clocks; `resync` unless every batch after the checkpoint comes again. */
  restoreAgents(agents: DetectionSnapshot['agents'], resync: boolean): void {
    this.agents.restore(agents, resync);
  }

  /** A restore's second step, once per part (oldest first): a series' or a device's (left out when devices are not judged now). */
  restorePart(part: SeriesSnapshot | DeviceSnapshot): void {
    if (isDevicePart(part)) this.devices?.restore(part);
    else this.restoreSeries(part);
  }

  /** A series' part; left out, and counted, when its detector changed or at maxSeries. */
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
    const s = newSeries(
      r.device,
      r.metric,
      plan,
      plan.create(r.state, { windowMs: r.lengthMs }),
      r.lastTs,
      r.lengthMs,
      r.agent,
    );
    this.series.add(s);
    this.agents.join(this.agents.of(r.agent), s);
  }

  /** Takes the least recently seen series out of the table and off its agent's clock. */
  protected forgetOldest(): Series | undefined {
    const s = this.series.removeOldest();
    if (s !== undefined) this.agents.leave(s);
    return s;
  }
}

/** A device's snapshot entry (`machine` names it) rather than a series'. */
const isDevicePart = (p: SeriesSnapshot | DeviceSnapshot): p is DeviceSnapshot => 'machine' in p;
