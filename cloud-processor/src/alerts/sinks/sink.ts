import type { AlertEvent } from '@tributary/firmware-schemas';

/**
 * Where alert transitions go once their batch is durable (the `anomaly` measurement is written
 * with the batch itself, before the ack). `send` must not block or throw: a slow or failing sink
 * queues within its own bound and counts what it drops.
 */
export interface AlertSink {
  readonly name: string;
  /** Deliveries so far, for a sink that delivers over a network (webhooks: `webhook_alerts_*` on /metrics). */
  readonly counts?: { readonly sent: number; readonly failed: number; readonly dropped: number };
  send(alert: AlertEvent): void;
  /** Delivers what it can within `timeoutMs`, then stops; nothing is sent after it resolves. */
  stop(timeoutMs: number): Promise<void>;
}
