import type { SourceConfig } from '@tributary/firmware-schemas';
import { mqttOptions, mqttSessionOptions, redactUrl, tlsClientOptions, type Logger } from '@tributary/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import { messageOrigin, type IngestPipeline } from '../core/pipeline.js';
import { batchPubacks } from './puback-batcher.js';
import type { Source } from './source.js';

type MqttSourceConfig = Extract<SourceConfig, { type: 'mqtt' }>;

/** What an MQTT source is told besides its config, by the agent. */
export interface MqttSourceHooks {
  /** The connection is back after a loss: the broker's backlog (a persistent session's) may follow. */
  readonly reconnected?: () => void;
  /** Its place among the agent's sources: with the packet id, names a QoS 1 message for the write-ahead log. */
  readonly index?: number;
  /** Holds acknowledgements back until what was logged before is durable (the write-ahead log's group commit). */
  readonly ackAfterLog?: (release: () => void) => void;
  /** Called each time the subscription is in place, after every (re)connect. */
  readonly subscribed?: () => void;
}

/**
 * Subscribes to device telemetry on a broker (topic patterns from config) and feeds every payload
 * to the pipeline. mqtt.js reconnects and re-subscribes by itself; the source never stops the agent.
 */
export class MqttSource implements Source {
  readonly name: string;
  private client: MqttClient | undefined;
  private subscribed: Promise<void> | undefined;

  constructor(
    private readonly config: MqttSourceConfig,
    private readonly pipeline: IngestPipeline,
    private readonly log: Logger,
    private readonly clientId: string,
    private readonly hooks: MqttSourceHooks = {},
    /** Where its config is, for errors about its TLS files (`sources[0]`). */
    private readonly at = 'source',
  ) {
    this.name = config.name;
  }

  async start(): Promise<void> {
    const tls = tlsClientOptions(this.config.tls, `${this.at}.tls`);
    const client = mqtt.connect(this.config.url, {
      clientId: this.clientId,
      ...mqttOptions(this.config),
      ...mqttSessionOptions(this.config.protocolVersion, this.config.session),
      ...tls,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    batchPubacks(client, this.hooks.ackAfterLog);
    this.client = client;
    let wasDown = false;
    // The first error after a connect is a warning with its reason (a refused login says so
    // here); repeats while mqtt.js keeps retrying are debug, so a long outage does not flood.
    let errorWarned = false;
    this.subscribed = new Promise<void>((resolve) => {
      client.on('connect', () => {
        if (wasDown) {
          this.log.info({ url: redactUrl(this.config.url) }, 'telemetry broker reconnected');
          this.hooks.reconnected?.();
        }
        wasDown = false;
        errorWarned = false;
        // MQTT 5 §3.8.3.1, Retain Handling 2: no retained messages at subscribe. They are readings
        // already sent, which each resubscription would deliver again.
        client.subscribe(
          this.config.topics,
          { qos: this.config.qos, ...(this.config.protocolVersion === 5 && { rh: 2 }) },
          (err) => {
            if (err) this.log.error({ err }, 'subscribe to telemetry failed');
            else {
              resolve();
              this.hooks.subscribed?.();
            }
          },
        );
      });
    });
    client.on('close', () => {
      // stop() forgets the client before ending it: a close it asked for is no loss.
      if (this.client !== client) return;
      if (!wasDown)
        this.log.warn({ url: redactUrl(this.config.url) }, 'telemetry broker connection lost; reconnecting');
      wasDown = true;
    });
    client.on('error', (err) => {
      if (errorWarned) return this.log.debug({ err: err.message }, 'telemetry broker error');
      errorWarned = true;
      this.log.warn({ url: redactUrl(this.config.url), err: err.message }, 'telemetry broker error; retrying');
    });
    // The topic names the input in the problem report (no string built per message).
    const index = this.hooks.index ?? 0;
    client.on('message', (topic, payload, packet) => {
      const origin = packet.qos > 0 && packet.messageId !== undefined ? messageOrigin(index, packet.messageId) : 0;
      this.pipeline.ingestJson(payload, this.config.maxPayloadBytes, topic, origin, packet.dup);
    });
  }

  /** Resolves once the first subscription is in place (for tests and the demo). */
  ready(): Promise<void> {
    return this.subscribed ?? Promise.reject(new Error('source not started'));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('message');
      // The acks of what was taken are gathered until the end of this turn, then wait for the log's
      // commit: let them go before the DISCONNECT, or the broker sends those messages again.
      const ackAfterLog = this.hooks.ackAfterLog;
      if (ackAfterLog !== undefined) {
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => ackAfterLog(resolve));
      }
      await client.endAsync();
    }
  }
}
