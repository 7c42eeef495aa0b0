import type { AlertEvent, Severity } from '@tributary/firmware-schemas';
import type { Verdict } from '../detect/detector.js';

export interface LifecycleOptions {
  /** Consecutive normal points before an open alert resolves (hysteresis). */
  readonly resolveAfterWindows: number;
  /** An alert stays open at least this long (event time), so a flicker is one alert, not many. */
  readonly minOpenMs: number;
  /** After a resolve, the same series and detector does not open again for this long (event time). */
  readonly cooldownMs: number;
  /** Bound on open alerts (and on cooldowns); openings beyond it are counted and dropped. */
  readonly maxOpen: number;
  /** Recent transitions kept for the API. */
  readonly recent: number;
}

/**
 * The score at which a verdict opens an alert for a given sensitivity k: detectors put score 0.5
 * at their alarm surprise a, and score = s / (s + a); alerting at surprise a / k means score
 * 1 / (1 + k). k = 1 is 0.5.
 */
export function openThreshold(sensitivity: number): number {
  return 1 / (1 + sensitivity);
}

/** While open, an alert holds as long as the level stays at half the opening surprise or more. */
function holdThreshold(open: number): number {
  return open / (2 - open);
}

/** Critical from twice the opening surprise. */
function criticalThreshold(open: number): number {
  return (2 * open) / (1 + open);
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

interface OpenAlert {
  readonly id: string;
  readonly device: string;
  readonly metric: string;
  readonly detector: string;
  readonly openedAt: number;
  severity: Severity;
  peak: number;
  normalStreak: number;
}

export interface LifecycleSnapshot {
  open: OpenAlert[];
  cooldowns: Array<[string, number]>;
}

/**
 * Turns verdicts per (series, detector) into alert transitions: opened once when a point's score
 * reaches the open threshold (the same decision NAB scores); updated when the anomaly grows
 * clearly worse (a higher severity or peak of its level, the score before the detector's own
 * de-duplication); held while the level stays above
 * half the opening surprise; resolved after `resolveAfterWindows` points below that in a row, and
 * not before `minOpenMs`; then a cooldown. Pure; state is one entry per open alert or cooldown.
 */
export class AlertLifecycle {
  private readonly open = new Map<string, OpenAlert>();
  private readonly cooldownUntil = new Map<string, number>();
  private readonly recentEvents: AlertEvent[] = [];
  /** Openings dropped because `maxOpen` alerts were open. */
  dropped = 0;

  constructor(
    private readonly options: LifecycleOptions,
    /** Called for each opening dropped at `maxOpen`, so it is counted and reported. */
    private readonly onDropped: (device: string, metric: string, detector: string) => void = () => undefined,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /** Whether (device, metric, detector) has an open alert: callers skip quiet points otherwise. */
  isOpen(device: string, metric: string, detector: string): boolean {
    return this.open.has(`${device}\u0000${metric}\u0000${detector}`);
  }

  observe(
    device: string,
    metric: string,
    detector: string,
    verdict: Verdict,
    ts: number,
    threshold = 0.5,
  ): AlertEvent | undefined {
    const key = `${device}\u0000${metric}\u0000${detector}`;
    const level = verdict.level ?? verdict.score;
    const current = this.open.get(key);
    if (current === undefined) {
      // Opened by the score, the decision a benchmark scores (after the detector's own
      // de-duplication of one event's repeated reports); held by the level, which sees it persist.
      if (verdict.score < threshold) return undefined;
      const until = this.cooldownUntil.get(key);
      if (until !== undefined) {
        if (ts < until) return undefined;
        this.cooldownUntil.delete(key);
      }
      if (this.open.size >= this.options.maxOpen) {
        this.dropped++;
        this.onDropped(device, metric, detector);
        return undefined;
      }
      const alert: OpenAlert = {
        id: `${device}/${metric}/${detector}/${ts}`,
        device,
        metric,
        detector,
        openedAt: ts,
        severity: severityOf(level, threshold),
        peak: level,
        normalStreak: 0,
      };
      this.open.set(key, alert);
      return this.event(alert, 'opened', verdict, ts);
    }
    if (level >= holdThreshold(threshold)) {
      current.normalStreak = 0;
      const severity = severityOf(level, threshold);
      const worse = RANK[severity] > RANK[current.severity];
      // Only a clearly worse anomaly is news; a steady one does not repeat itself every window.
      if (!worse && level <= current.peak + 0.05) return undefined;
      current.peak = Math.max(current.peak, level);
      if (worse) current.severity = severity;
      return this.event(current, 'updated', verdict, ts);
    }
    current.normalStreak++;
    if (current.normalStreak < this.options.resolveAfterWindows || ts < current.openedAt + this.options.minOpenMs)
      return undefined;
    this.open.delete(key);
    if (this.options.cooldownMs > 0) this.startCooldown(key, ts + this.options.cooldownMs, ts);
    return this.event(current, 'resolved', verdict, ts);
  }

  /**
   * Closes the open alert of (device, metric, detector), if any, as resolved at `ts` with `why`:
   * for a series no longer watched (evicted), whose alert would otherwise stay open for good.
   */
  close(device: string, metric: string, detector: string, ts: number, why: string): AlertEvent | undefined {
    const key = `${device}\u0000${metric}\u0000${detector}`;
    const current = this.open.get(key);
    if (current === undefined) return undefined;
    this.open.delete(key);
    return this.event(
      current,
      'resolved',
      { score: 0, value: Number.NaN, reason: why },
      Math.max(ts, current.openedAt),
      why,
    );
  }

  /** Open alerts, oldest first. */
  openAlerts(): Array<{
    id: string;
    device: string;
    metric: string;
    detector: string;
    openedAt: number;
    severity: Severity;
  }> {
    return [...this.open.values()].map(({ id, device, metric, detector, openedAt, severity }) => ({
      id,
      device,
      metric,
      detector,
      openedAt,
      severity,
    }));
  }

  /** The latest transitions, newest last. */
  recent(): readonly AlertEvent[] {
    return this.recentEvents;
  }

  snapshot(): LifecycleSnapshot {
    return { open: [...this.open.values()].map((a) => ({ ...a })), cooldowns: [...this.cooldownUntil] };
  }

  restore(snapshot: LifecycleSnapshot): void {
    for (const a of snapshot.open) this.open.set(`${a.device}\u0000${a.metric}\u0000${a.detector}`, { ...a });
    for (const [key, until] of snapshot.cooldowns) this.cooldownUntil.set(key, until);
  }

  /** Bounded like the open alerts: expired cooldowns go first, then the oldest. */
  private startCooldown(key: string, until: number, now: number): void {
    if (this.cooldownUntil.size >= this.options.maxOpen) {
      for (const [k, t] of this.cooldownUntil) if (t <= now) this.cooldownUntil.delete(k);
      if (this.cooldownUntil.size >= this.options.maxOpen)
        this.cooldownUntil.delete(this.cooldownUntil.keys().next().value as string);
    }
    this.cooldownUntil.set(key, until);
  }

  /** The transition, as returned and as kept for `recent()` (one object); `message` overrides the default words. */
  private event(
    alert: OpenAlert,
    state: AlertEvent['state'],
    verdict: Verdict,
    ts: number,
    message?: string,
  ): AlertEvent {
    const event: AlertEvent = {
      v: 1,
      id: alert.id,
      state,
      device: alert.device,
      metric: alert.metric,
      detector: alert.detector,
      severity: alert.severity,
      score: Math.min(1, Math.max(0, verdict.level ?? verdict.score)),
      value: Number.isFinite(verdict.value) ? verdict.value : 0,
      openedAt: alert.openedAt,
      at: ts,
      message: (
        message ?? (state === 'resolved' ? `back to normal after ${formatSpan(ts - alert.openedAt)}` : verdict.reason)
      ).slice(0, 500),
      ...(state === 'resolved' && { resolvedAt: ts }),
    };
    this.recentEvents.push(event);
    if (this.recentEvents.length > this.options.recent)
      this.recentEvents.splice(0, this.recentEvents.length - this.options.recent);
    return event;
  }
}

/** Warning from the open threshold, critical from twice its surprise. */
export function severityOf(level: number, threshold = 0.5): Severity {
  return level >= criticalThreshold(threshold) ? 'critical' : level >= threshold ? 'warning' : 'info';
}

function formatSpan(ms: number): string {
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
