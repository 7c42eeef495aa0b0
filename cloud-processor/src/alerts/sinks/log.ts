import type { AlertEvent } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import type { AlertSink } from './sink.js';

/** One structured log line per transition: warn when an alert opens or worsens, info when it resolves. */
export class LogSink implements AlertSink {
  readonly name = 'log';

  constructor(private readonly log: Logger) {}

  send(alert: AlertEvent): void {
    const fields = {
      alert: {
        id: alert.id,
        state: alert.state,
        severity: alert.severity,
        device: alert.device,
        metric: alert.metric,
        detector: alert.detector,
      },
    };
    if (alert.state === 'resolved') this.log.info(fields, alert.message);
    else this.log.warn(fields, alert.message);
  }

  async stop(): Promise<void> {
    // Nothing buffered.
  }
}
