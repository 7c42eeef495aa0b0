import { topics } from '@tributary/firmware-schemas';
import { mqttOptions, redactUrl, type Logger, type TlsFiles } from '@tributary/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import type { BrokerSession, Deliver } from './session.js';

export interface MqttSessionOptions {
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** MQTT client id of the processor's persistent session. */
  readonly clientId: string;
  readonly startTimeoutMs: number;
  /** Subscribes to the agents' presence (their retained status messages and last wills) too. */
  readonly presence: boolean;
  /** For an `mqtts://` URL: CA, certificate and key (tlsClientOptions). */
  readonly tls?: TlsFiles | undefined;
}

/**
 * The processor's MQTT client (mqtt.js) at a broker it does not run. mqtt.js hands over one
 * packet at a time and sends its PUBACK (and reads further packets) only when `done` is called,
 * so a slow ingest stops reading the socket and the broker holds the rest. A persistent session
 * (clean: false) makes the broker keep batches published while the processor is down.
 */
export class MqttSession implements BrokerSession {
  private client: MqttClient | undefined;
  /** Since when the connection is down (ms since the epoch); undefined while connected. */
  private downSince: number | undefined = Date.now();

  constructor(
    private readonly o: MqttSessionOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Connects and subscribes. Rejects, naming the broker and the last error, when that has not
   * succeeded within `startTimeoutMs` or the broker refuses the subscription (its ACL), instead of
   * waiting forever for a broker that is not there.
   */
  async open(deliver: Deliver): Promise<void> {
    const { url, clientId, startTimeoutMs } = this.o;
    const client = mqtt.connect(url, {
      clientId,
      ...mqttOptions(this.o),
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...this.o.tls,
    });
    this.client = client;
    client.handleMessage = (packet, done) => deliver(packet.topic, packet.payload as Buffer, () => done());
    let lastError = 'no answer';
    let warned = false;
    client.on('error', (err) => {
      lastError = err.message;
      // The first failure is worth a line (a wrong URL or login); mqtt.js retries every second after it.
      if (!warned) this.log.warn({ url: redactUrl(url), err: err.message }, 'cannot reach the broker yet; retrying');
      else this.log.debug({ err: err.message }, 'ingest broker error');
      warned = true;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`no subscription at ${redactUrl(url)} within ${startTimeoutMs} ms (last error: ${lastError})`),
            ),
          startTimeoutMs,
        );
        client.on('connect', () => {
          this.downSince = undefined;
          client.subscribe(topics.batchesPattern, { qos: 1 }, (err) => {
            if (err)
              reject(
                new Error(
                  `the broker at ${redactUrl(url)} refused the subscription to ${topics.batchesPattern}: ${err.message}`,
                ),
              );
            else resolve();
          });
          // Presence is for the dashboard: QoS 0, and a broker whose ACL refuses it costs only that.
          if (this.o.presence)
            client.subscribe(topics.status('+'), { qos: 0 }, (err, granted) => {
              if (err || granted?.some((g) => g.qos === 128))
                this.log.info(
                  { topic: topics.status('+') },
                  'the broker does not let the processor read agent presence; the dashboard shows agents by their last batch',
                );
            });
        });
        client.on('close', () => (this.downSince ??= Date.now()));
      });
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  publish(topic: string, payload: string, done: (err?: Error) => void): void {
    if (this.client === undefined) return done(new Error('not connected'));
    this.client.publish(topic, payload, { qos: 1 }, (err) => done(err));
  }

  get connection(): { connected: boolean; downSinceMs: number | undefined } {
    return { connected: this.client?.connected === true, downSinceMs: this.downSince };
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true);
  }
}
