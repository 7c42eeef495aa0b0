import { agentOfTopic, topics, type AlertEvent, type Logger } from '@tributary/firmware-schemas';
import mqtt, { type MqttClient } from 'mqtt';
import type { BatchProcessor } from '../processor.js';
import { WriteAbortedError } from '../influx/writer.js';

/**
 * Receives batches from the broker (embedded or external) and publishes acks and alerts.
 * Backpressure: mqtt.js hands over one packet at a time and sends the PUBACK only when
 * `handleMessage` calls back, so while a batch is being written nothing more is read from the
 * socket and the broker holds the rest (MQTT 3.1.1 §4.3.2: the receiver owns the message once it
 * sends PUBACK).
 */
export class MqttIngest {
  private client: MqttClient | undefined;
  private subscribed: Promise<void> | undefined;
  /** Acks and alerts are counted by the caller through these hooks. */
  onAckSent: () => void = () => undefined;

  constructor(
    private readonly url: string,
    private readonly processor: BatchProcessor,
    private readonly log: Logger,
    private readonly clientId = 'tributary-cloud',
  ) {}

  async start(): Promise<void> {
    const client = mqtt.connect(this.url, { clientId: this.clientId, clean: true, reconnectPeriod: 1000, connectTimeout: 10_000 });
    this.client = client;
    client.handleMessage = (packet, done) => {
      void this.handle(client, packet.topic, packet.payload as Buffer).then(
        () => done(),
        (err: unknown) => {
          if (!(err instanceof WriteAbortedError)) this.log.error({ err }, 'batch handling failed');
          // No PUBACK for a batch that was not written; the agent sends it again.
        },
      );
    };
    this.subscribed = new Promise<void>((resolve) => {
      client.on('connect', () => {
        client.subscribe(topics.batchesPattern, { qos: 1 }, (err) => {
          if (err) this.log.error({ err: err.message }, 'subscribe to batches failed');
          else resolve();
        });
      });
    });
    client.on('error', (err) => this.log.debug({ err: err.message }, 'ingest broker error'));
    await this.subscribed;
  }

  /** Publishes an alert transition on `tributary/v1/alerts/{device}/{metric}` at QoS 1. */
  publishAlert(alert: AlertEvent): void {
    this.client?.publish(topics.alert(alert.device, alert.metric), JSON.stringify(alert), { qos: 1 });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
  }

  private async handle(client: MqttClient, topic: string, payload: Buffer): Promise<void> {
    const ack = await this.processor.process(payload, agentOfTopic(topic));
    if (ack === undefined) return;
    // Not awaited: the broker's PUBACK for this publish is an incoming packet, and incoming packets
    // wait until this handler returns. mqtt.js keeps the QoS 1 ack and resends it after a reconnect.
    client.publish(topics.acks(ack.agent), JSON.stringify(ack), { qos: 1 }, (err) => {
      if (err) this.log.debug({ err: err.message, seq: ack.seq }, 'ack publish failed; the agent will resend the batch');
    });
    this.onAckSent();
  }
}
