import { agentOfTopic, topics, type Logger } from '@tributary/firmware-schemas';

/** Alert publishes allowed to wait for the broker at once. */
const MAX_UNACKED = 1_000;
import mqtt, { type MqttClient } from 'mqtt';
import type { Intake } from './intake.js';

/**
 * Receives batches from the broker (embedded or external), hands them to the bounded intake and
 * publishes each ack once the batch is written; also publishes alerts.
 *
 * Backpressure: mqtt.js hands over one packet at a time and sends the PUBACK (and reads further
 * packets) only when `handleMessage` calls back, which happens when the batch got a place in the
 * intake's backlog. When the backlog is full nothing more is read from the socket and the broker
 * holds the rest. The PUBACK is transport-level; what lets the agent delete a batch is the ack
 * published here after the write (so a batch lost from the backlog by a crash is sent again).
 * A persistent session (clean: false) makes the broker keep batches published while we are down.
 */
export class MqttIngest {
  private client: MqttClient | undefined;

  constructor(
    private readonly url: string,
    private readonly intake: Intake,
    private readonly log: Logger,
    private readonly onAckSent: () => void,
    private readonly clientId = 'tributary-cloud',
  ) {}

  async start(): Promise<void> {
    const client = mqtt.connect(this.url, { clientId: this.clientId, clean: false, reconnectPeriod: 1000, connectTimeout: 10_000 });
    this.client = client;
    client.handleMessage = (packet, done) => {
      const { admitted, ack } = this.intake.admit(packet.payload as Buffer, agentOfTopic(packet.topic));
      void admitted.then(() => done());
      ack.then(
        (a) => {
          if (a === undefined) return;
          client.publish(topics.acks(a.agent), JSON.stringify(a), { qos: 1 }, (err) => {
            if (err) this.log.debug({ err: err.message, seq: a.seq }, 'ack publish failed; the agent will send the batch again');
          });
          this.onAckSent();
        },
        (err: unknown) => this.log.debug({ err: (err as Error).message }, 'batch not written; left unacked'),
      );
    };
    const subscribed = new Promise<void>((resolve) => {
      client.on('connect', () => {
        client.subscribe(topics.batchesPattern, { qos: 1 }, (err) => {
          if (err) this.log.error({ err: err.message }, 'subscribe to batches failed');
          else resolve();
        });
      });
    });
    client.on('error', (err) => this.log.debug({ err: err.message }, 'ingest broker error'));
    await subscribed;
  }

  /** Messages published at QoS 1 and not yet acknowledged by the broker (kept by mqtt.js while offline). */
  private unacked = 0;
  /** Publishes dropped because too many were waiting for the broker. */
  dropped = 0;

  /**
   * Publishes at QoS 1 (alerts). mqtt.js keeps unacknowledged messages while offline; beyond
   * MAX_UNACKED waiting ones a new one is dropped and counted, so an absent broker cannot fill memory.
   */
  publish(topic: string, payload: string): void {
    const client = this.client;
    if (!client || this.unacked >= MAX_UNACKED) {
      this.dropped++;
      return;
    }
    this.unacked++;
    client.publish(topic, payload, { qos: 1 }, () => this.unacked--);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
  }
}
