import type { AlertEvent } from '@tributary/firmware-schemas';
import type { AlertLifecycle } from '../alerts/lifecycle.js';
import type { DeviceDetector } from './detectors/machine.js';
import type { DevicePlan } from './registry.js';

/** The device detector's alerts: filed under the metric that moved most when it opened. */
export const MACHINE = 'machine';

export interface DeviceSnapshot {
  machine: string;
  lastTs: number;
  filedUnder: string | null;
  state: unknown;
}

/** A device's metrics of one time, gathered from a batch. */
interface Row {
  ts: number;
  readonly values: Map<string, number>;
}

/** Judged rows kept for reuse at most (a batch's devices beyond it get new rows). */
const MAX_SPARE_ROWS = 1_024;

/** One device's joint detector, and the metric its open alert is filed under. */
export interface Device {
  readonly device: string;
  readonly detector: DeviceDetector;
  lastTs: number;
  filedUnder: string | null;
}

/**
 * Devices judged as a whole (detection.devices): each device's metrics of one time gathered from a
 * batch's points into a row, the row judged by the device's joint detector when the device's time
 * moves on (or at the batch's end), its verdicts turned into alert transitions by the lifecycle.
 * Bounded by `maxDevices` (the least recently seen device is forgotten, its open alert closed).
 * Detection owns one and feeds it each point its series took; everything about a device stays
 * with the points of that device, so a worker holding all of a device's series judges it exactly
 * as one Detection of every series would.
 */
export class DeviceDetection {
  /** In recency order (Map order): the least recently seen first. */
  private readonly devices = new Map<string, Device>();
  /** The batch being ingested: each device's points of its latest time, not judged yet. */
  private readonly rows = new Map<string, Row>();
  /** Rows judged at the end of a batch, kept for the next batch's devices (no maps built per window). */
  private readonly spare: Row[] = [];

  constructor(
    private readonly plan: DevicePlan,
    private readonly lifecycle: AlertLifecycle,
    private readonly maxDevices: number,
    private readonly threshold: number,
    /** A device's metrics of one time beyond what its detector judges (`count` left out, the first named). */
    private readonly onMetricsLeftOut: (device: string, count: number, first: string) => void = () => undefined,
  ) {}

  /** One point its series took (newer than the series' last): gathered into its device's row; the device's previous row is judged first if its time differs. */
  offer(device: string, metric: string, ts: number, value: number, alerts: AlertEvent[]): void {
    let row = this.rows.get(device);
    if (row !== undefined && row.ts !== ts) {
      this.judge(device, row.ts, row.values, alerts);
      // The judged row is taken again for the device's next time (nothing keeps a row once judged).
      row.ts = ts;
      row.values.clear();
    } else if (row === undefined) {
      row = this.spare.pop() ?? { ts, values: new Map<string, number>() };
      row.ts = ts;
      this.rows.set(device, row);
    }
    row.values.set(metric, value);
  }

  /** The end of a batch: judges every row still gathered (in the order the devices first came). */
  flush(alerts: AlertEvent[]): void {
    for (const [device, row] of this.rows) {
      this.judge(device, row.ts, row.values, alerts);
      row.values.clear();
      if (this.spare.length < MAX_SPARE_ROWS) this.spare.push(row);
    }
    this.rows.clear();
  }

  /** Whether the device's open alert is the one filed under (device, metric) (a restore keeps it then). */
  watches(device: string, metric: string): boolean {
    return this.devices.get(device)?.filedUnder === metric;
  }

  /** A snapshot entry per device, the least recently seen first. */
  *snapshotParts(): Generator<DeviceSnapshot> {
    for (const d of [...this.devices.values()])
      yield { machine: d.device, lastTs: d.lastTs, filedUnder: d.filedUnder, state: d.detector.snapshot() };
  }

  /** One device back from a snapshot (oldest first; at maxDevices the oldest restored goes). */
  restore(r: DeviceSnapshot): void {
    if (this.devices.size >= this.maxDevices) this.devices.delete(this.devices.keys().next().value as string);
    this.devices.set(r.machine, {
      device: r.machine,
      detector: this.plan.create(r.state),
      lastTs: r.lastTs,
      filedUnder: r.filedUnder,
    });
  }

  /** The device's metrics at one time through its joint detector, into the alert lifecycle. */
  private judge(device: string, ts: number, values: Map<string, number>, alerts: AlertEvent[]): void {
    if (values.size < 2) return;
    const d = this.deviceFor(device, ts, alerts);
    if (ts <= d.lastTs) return;
    d.lastTs = ts;
    const verdict = d.detector.update(ts, values);
    if (verdict.leftOut) this.onMetricsLeftOut(device, verdict.leftOut.count, verdict.leftOut.first);
    // No alert of the device open (it is filed under a metric while open) and a score that cannot
    // open one: the lifecycle would change nothing, so it is not asked (as Detection.observe).
    if (d.filedUnder === null && verdict.score < this.threshold) return;
    const metric = d.filedUnder ?? verdict.moved[0]?.metric ?? (values.keys().next().value as string);
    const alert = this.lifecycle.observe(device, metric, MACHINE, verdict, ts, this.threshold);
    if (!alert) return;
    alerts.push(alert);
    d.filedUnder = alert.state === 'resolved' ? null : metric;
  }

  /** The device's joint detector (built if new, the least recently seen evicted at the bound). */
  deviceFor(device: string, now: number, alerts: AlertEvent[]): Device {
    let d = this.devices.get(device);
    if (d)
      this.devices.delete(device); // re-insert below: Map order is recency order
    else {
      if (this.devices.size >= this.maxDevices) this.evictOldest(alerts, now);
      d = { device, detector: this.plan.create(), lastTs: -Infinity, filedUnder: null };
    }
    this.devices.set(device, d);
    return d;
  }

  private evictOldest(alerts: AlertEvent[], now: number): void {
    const oldest = this.devices.values().next();
    if (oldest.done) return;
    const d = oldest.value;
    this.devices.delete(d.device);
    if (d.filedUnder === null) return;
    const closed = this.lifecycle.close(
      d.device,
      d.filedUnder,
      MACHINE,
      now,
      `closed unresolved: the device is no longer watched (detection.maxSeries ${this.maxDevices} reached, it was the least recently seen)`,
    );
    if (closed) alerts.push(closed);
  }
}
