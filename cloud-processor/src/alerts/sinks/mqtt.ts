import { topics, type AlertEvent } from '@tributary/firmware-schemas';
import type { AlertSink } from './sink.js';

/** Publishes each transition on `tributary/v1/alerts/{device}/{metric}` at QoS 1 (mqtt.js queues while offline). */
export class MqttAlertSink implements AlertSink {
  readonly name = 'mqtt';

  constructor(private readonly publish: (topic: string, payload: string) => void) {}

  send(alert: AlertEvent): void {
    this.publish(topics.alert(alert.device, alert.metric), JSON.stringify(alert));
  }

  async stop(): Promise<void> {
    // The MQTT client flushes on its own end.
  }
}
