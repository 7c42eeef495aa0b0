import { setTimeout as delay } from 'node:timers/promises';
import type { AlertEvent, WebhookConfig } from '@tributary/firmware-schemas';
import { Backoff, retryAfterMs, Throttle, type Logger } from '@tributary/runtime';
import type { z } from 'zod';
import type { AlertSink } from './sink.js';

type Settings = z.output<typeof WebhookConfig>;

export interface WebhookCounts {
  sent: number;
  failed: number;
  dropped: number;
}

/**
 * POSTs each alert transition as JSON to a URL, in order, one at a time. 2xx is delivered; 429,
 * 5xx, timeouts and refused connections are retried after max(Retry-After, backoff with jitter)
 * up to `maxAttempts`; another 4xx is the receiver refusing this alert, which is counted as failed.
 * The queue of waiting transitions is bounded: beyond `maxQueue` the oldest is dropped and counted.
 * A receiver that is down or refuses everything is logged once per 10 s (with how many alerts it
 * refused or made retry since the last line), not once per alert: an alert storm must not become
 * a log storm. The counts say the rest.
 */
export class WebhookSink implements AlertSink {
  readonly name: string;
  readonly counts: WebhookCounts = { sent: 0, failed: 0, dropped: 0 };
  private readonly queue: AlertEvent[] = [];
  private running = false;
  private stopped = false;
  /** Cut short what the delivery in progress is waiting for (its request, or its wait before a retry), at stop. */
  private readonly halt = new AbortController();
  private idle: Promise<void> = Promise.resolve();
  private readonly warning = new Throttle(10_000);
  /** Refusals and unreachable first attempts since the last warning line. */
  private unlogged = 0;

  constructor(
    private readonly config: Settings,
    private readonly log: Logger,
  ) {
    this.name = `webhook ${new URL(config.url).host}`;
  }

  get queued(): number {
    return this.queue.length;
  }

  send(alert: AlertEvent): void {
    if (this.stopped) return;
    if (this.queue.length >= this.config.maxQueue) {
      this.queue.shift();
      this.counts.dropped++;
    }
    this.queue.push(alert);
    if (!this.running) this.idle = this.drain();
  }

  async stop(timeoutMs: number): Promise<void> {
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([this.idle, deadline]);
    this.stopped = true;
    this.halt.abort();
    await this.idle;
    this.counts.dropped += this.queue.splice(0).length;
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.stopped) {
      // Out of the queue while on the wire: the bound applies to transitions still waiting.
      const alert = this.queue.shift()!;
      const delivered = await this.deliver(alert);
      if (delivered) this.counts.sent++;
      else if (this.stopped)
        this.counts.dropped++; // cut off by stop, not refused by the receiver
      else this.counts.failed++;
    }
    this.running = false;
  }

  private async deliver(alert: AlertEvent): Promise<boolean> {
    const backoff = new Backoff(this.config.backoff.initialMs, this.config.backoff.maxMs);
    const body = JSON.stringify(alert);
    for (let attempt = 1; attempt <= this.config.maxAttempts && !this.stopped; attempt++) {
      let wait: number;
      try {
        const res = await fetch(this.config.url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', ...this.config.headers },
          signal: AbortSignal.any([AbortSignal.timeout(this.config.timeoutMs), this.halt.signal]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return true;
        if (res.status !== 429 && res.status < 500) {
          this.warn({ status: res.status, alert: alert.id }, 'webhook refused an alert');
          return false;
        }
        wait = Math.max(retryAfterMs(res.headers.get('retry-after'), Date.now()) ?? 0, backoff.next());
      } catch (err) {
        wait = backoff.next();
        if (attempt === 1)
          this.warn(
            { err: (err as Error).message, url: new URL(this.config.url).origin },
            'webhook unreachable; retrying',
          );
      }
      if (this.stopped) break;
      // Cut short at stop (the abort rejects the timer; that is the end of the wait, not an error).
      await delay(wait, undefined, { signal: this.halt.signal }).catch(() => undefined);
    }
    return false;
  }

  private warn(fields: object, message: string): void {
    this.unlogged++;
    if (!this.warning.ready()) return;
    this.log.warn({ ...fields, ...(this.unlogged > 1 ? { sinceLastWarning: this.unlogged } : {}) }, message);
    this.unlogged = 0;
  }
}
