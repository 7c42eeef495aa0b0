import type { AlertEvent } from '@tributary/firmware-schemas';
import type { AlertsView } from '../detection-runner.js';

type OpenAlert = ReturnType<AlertsView['openAlerts']>[number];

/**
 * The open alerts and recent transitions of lifecycles that live in worker threads, kept from the
 * transitions they send back (every change of an open alert is one) and from what a restore
 * opened. Bounded as they are: by alerts.maxOpen over the workers, and `recentMax` transitions.
 */
export class AlertsMirror implements AlertsView {
  private readonly open = new Map<string, OpenAlert>();
  private readonly recentEvents: AlertEvent[] = [];

  constructor(private readonly recentMax: number) {}

  get openCount(): number {
    return this.open.size;
  }

  openAlerts(): OpenAlert[] {
    return [...this.open.values()].map((a) => ({ ...a }));
  }

  recent(): readonly AlertEvent[] {
    return this.recentEvents;
  }

  /** Takes a batch's transitions, in order. */
  apply(events: readonly AlertEvent[]): void {
    for (const e of events) {
      if (e.state === 'opened')
        this.open.set(e.id, {
          id: e.id,
          device: e.device,
          metric: e.metric,
          detector: e.detector,
          openedAt: e.openedAt,
          severity: e.severity,
        });
      else if (e.state === 'resolved') this.open.delete(e.id);
      else {
        const a = this.open.get(e.id);
        if (a) a.severity = e.severity;
      }
      this.recentEvents.push(e);
    }
    if (this.recentEvents.length > this.recentMax)
      this.recentEvents.splice(0, this.recentEvents.length - this.recentMax);
  }

  /** Alerts a restore opened (each shard's, in order). */
  restored(open: readonly OpenAlert[]): void {
    for (const a of open) this.open.set(a.id, { ...a });
  }

  /** Forgets the open alerts `gone` says belong to a worker that lost its state. */
  forget(gone: (a: OpenAlert) => boolean): number {
    let n = 0;
    for (const [id, a] of this.open) if (gone(a) && this.open.delete(id)) n++;
    return n;
  }
}
