import { decodeAck, topics, type UplinkConfig } from '@tributary/firmware-schemas';
import {
  Backoff,
  mqttOptions,
  mqttSessionOptions,
  redactUrl,
  Throttle,
  tlsClientOptions,
  type Clock,
  type Logger,
} from '@tributary/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import type { TransportEvents, UplinkTransport } from './transport.js';

type MqttUplinkConfig = Extract<UplinkConfig, { type: 'mqtt' }>;

/** How long stop() waits for the "offline" status to be acknowledged. */
const STOP_STATUS_MS = 1_000;

/**
 * Batches to `tributary/v1/agents/{agent}/batches` at QoS 1, acks from `.../acks`. A persistent
 * session (clean: false, a fixed client id) keeps the ack subscription across reconnects, so acks
 * the cloud publishes while the gateway is offline are delivered when it is back. Reconnects use
 * exponential backoff with full jitter. Presence: a retained status message with a last will.
 */
export class MqttUplinkTransport implements UplinkTransport {
  private client: MqttClient | undefined;
  private readonly backoff: Backoff;
  private isUp = false;
  private invalidAcks = 0;
  private readonly invalidAckWarning = new Throttle(10_000);
  private subscribeFailures = 0;
  private readonly subscribeWarning = new Throttle(10_000);
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: MqttUplinkConfig,
    private readonly agentId: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff(config.backoff.initialMs, config.backoff.maxMs);
  }

  get connected(): boolean {
    return this.isUp;
  }

  start(events: TransportEvents): void {
    const status = topics.status(this.agentId);
    const client = mqtt.connect(this.config.url, {
      clientId: `tributary-agent-${this.agentId}`,
      ...mqttOptions(this.config),
      ...tlsClientOptions(this.config.tls, 'uplink.tls'),
      ...mqttSessionOptions(this.config.protocolVersion, 'persistent'),
      // Reconnects are ours (below), with backoff and jitter instead of a fixed period.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      will: { topic: status, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      this.backoff.reset();
      this.log.info({ url: redactUrl(this.config.url) }, 'uplink connected');
      client.subscribe(topics.acks(this.agentId), { qos: 1 }, (err) => {
        if (err) {
          // Refused (a SUBACK failure: nats-server answers so when it cannot make the session's
          // consumer, as just after a restart or under load) or cut off. Without the subscription
          // no ack can arrive: batches sent on this connection would be resent for ever. So the
          // connection is dropped, and the next one, after the backoff, subscribes again.
          this.subscribeFailures++;
          if (this.subscribeWarning.ready())
            this.log.warn(
              { err: err.message, failuresSinceStart: this.subscribeFailures },
              'subscribe to acks failed: reconnecting to subscribe again',
            );
          client.stream.destroy();
          return;
        }
        client.publish(status, JSON.stringify({ online: true, at: this.clock.now() }), { qos: 1, retain: true });
        this.isUp = true;
        events.connected();
      });
    });
    client.on('message', (_topic, payload) => {
      const r = decodeAck(payload);
      if (!r.ok) {
        // Once per 10 s at most: a broken or hostile publisher must not flood the log.
        this.invalidAcks++;
        if (this.invalidAckWarning.ready()) {
          this.log.warn({ reason: r.error.message, invalidSinceStart: this.invalidAcks }, 'ignored an invalid ack');
        }
      } else if (r.value.agent === this.agentId) events.answered(r.value);
    });
    client.on('close', () => {
      if (this.isUp) this.log.warn({ url: redactUrl(this.config.url) }, 'uplink connection lost');
      this.isUp = false;
      events.disconnected();
      this.scheduleReconnect();
    });
    client.on('error', (err) => this.log.debug({ err: err.message }, 'uplink error'));
  }

  send(seq: number, payload: string): void {
    this.client?.publish(topics.batches(this.agentId), payload, { qos: 1 }, (err) => {
      if (err) this.log.debug({ seq, err: err.message }, 'batch publish failed; it will be sent again');
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.isUp) {
      const status = client
        .publishAsync(topics.status(this.agentId), JSON.stringify({ online: false, at: this.clock.now() }), {
          qos: 1,
          retain: true,
        })
        .catch(() => undefined);
      await Promise.race([status, new Promise<void>((resolve) => setTimeout(resolve, STOP_STATUS_MS).unref())]);
    }
    this.isUp = false;
    // Forced: with a persistent session mqtt.js would wait for every unacked publish forever, and
    // the spool keeps each of those batches anyway (they go again at the next start).
    await client.endAsync(true);
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer !== undefined) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.client?.reconnect();
    }, this.backoff.next());
  }
}
