import type { AlertEvent, Severity } from '@tributary/firmware-schemas';
import type { Verdict } from '../detect/detector.js';

export interface LifecycleOptions {
  /** Consecutive normal points before an open alert resolves. */
  readonly resolveAfterWindows: number;
  /** After a resolve, the same series and detector stays quiet this long (event time). */
  readonly cooldownMs: number;
  /** Bound on open alerts; further openings are counted and dropped. */
  readonly maxOpen: number;
}

interface OpenAlert {
  readonly id: string;
  readonly openedAt: number;
  severity: Severity;
  peak: number;
  normalStreak: number;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function severityOf(score: number): Severity {
  return score >= 0.8 ? 'critical' : score >= 0.5 ? 'warning' : 'info';
}

/**
 * Turns a stream of verdicts per (series, detector) into alert transitions: opened once when a
 * point scores ≥ 0.5, updated when the anomaly grows worse (a higher severity or peak), resolved
 * after `resolveAfterWindows` normal points in a row (hysteresis), then a cooldown. Pure; state is
 * one entry per open alert or cooldown.
 */
export class AlertLifecycle {
  private readonly open = new Map<string, OpenAlert & { device: string; metric: string; detector: string }>();
  private readonly cooldownUntil = new Map<string, number>();
  /** Openings dropped because `maxOpen` alerts were open. */
  dropped = 0;

  constructor(private readonly options: LifecycleOptions) {}

  get openCount(): number {
    return this.open.size;
  }

  observe(device: string, metric: string, detector: string, verdict: Verdict, ts: number): AlertEvent | undefined {
    const key = `${device}\u0000${metric}\u0000${detector}`;
    const current = this.open.get(key);
    // Alerting follows the level before the detector's own de-duplication (see Verdict.level).
    const anomalous = (verdict.level ?? verdict.score) >= 0.5;
    if (current === undefined) {
      if (!anomalous) return undefined;
      const until = this.cooldownUntil.get(key);
      if (until !== undefined) {
        if (ts < until) return undefined;
        this.cooldownUntil.delete(key);
      }
      if (this.open.size >= this.options.maxOpen) {
        this.dropped++;
        return undefined;
      }
      const alert = { id: `${device}/${metric}/${detector}/${ts}`, openedAt: ts, severity: severityOf(verdict.score), peak: verdict.score, normalStreak: 0, device, metric, detector };
      this.open.set(key, alert);
      return this.event(alert, 'opened', verdict, ts);
    }
    if (anomalous) {
      current.normalStreak = 0;
      const severity = severityOf(verdict.level ?? verdict.score);
      const worse = SEVERITY_RANK[severity] > SEVERITY_RANK[current.severity];
      // Only a clearly worse anomaly is news; a steady one does not repeat itself every window.
      if (!worse && verdict.score <= current.peak + 0.05) return undefined;
      current.peak = Math.max(current.peak, verdict.score);
      if (worse) current.severity = severity;
      return this.event(current, 'updated', verdict, ts);
    }
    current.normalStreak++;
    if (current.normalStreak < this.options.resolveAfterWindows) return undefined;
    this.open.delete(key);
    if (this.options.cooldownMs > 0) this.startCooldown(key, ts + this.options.cooldownMs, ts);
    return { ...this.event(current, 'resolved', verdict, ts), resolvedAt: ts };
  }

  /** Bounded like the open alerts: expired cooldowns go first, then the oldest. */
  private startCooldown(key: string, until: number, now: number): void {
    if (this.cooldownUntil.size >= this.options.maxOpen) {
      for (const [k, t] of this.cooldownUntil) if (t <= now) this.cooldownUntil.delete(k);
      if (this.cooldownUntil.size >= this.options.maxOpen) this.cooldownUntil.delete(this.cooldownUntil.keys().next().value as string);
    }
    this.cooldownUntil.set(key, until);
  }

  /** Open alerts, oldest first. */
  openAlerts(): Array<{ id: string; device: string; metric: string; detector: string; openedAt: number; severity: Severity }> {
    return [...this.open.values()].map(({ id, device, metric, detector, openedAt, severity }) => ({ id, device, metric, detector, openedAt, severity }));
  }

  private event(alert: OpenAlert & { device: string; metric: string; detector: string }, state: AlertEvent['state'], verdict: Verdict, ts: number): AlertEvent {
    return {
      v: 1,
      id: alert.id,
      state,
      device: alert.device,
      metric: alert.metric,
      detector: alert.detector,
      severity: alert.severity,
      score: Math.min(1, Math.max(0, verdict.score)),
      value: verdict.value,
      openedAt: alert.openedAt,
      at: ts,
      message: state === 'resolved' ? `back to normal: ${verdict.reason}` : verdict.reason,
    };
  }
}
