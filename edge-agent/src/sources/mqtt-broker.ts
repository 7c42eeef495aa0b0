import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import type { SourceConfig } from '@tributary/firmware-schemas';
import {
  certifiedName,
  listenMqtt,
  MQTT_PACKET_OVERHEAD_BYTES,
  tlsListenerOptions,
  type Logger,
} from '@tributary/runtime';
import type { AedesOptions, AedesPublishPacket, Aedes, AuthenticateError } from 'aedes';
import type { IngestPipeline } from '../core/pipeline.js';
import type { Source } from './source.js';
import { boundSubscriberQueue } from './subscriber-queue.js';

type MqttBrokerSourceConfig = Extract<SourceConfig, { type: 'mqtt-broker' }>;

/**
 * What the gateway's broker turned away: a connection for an oversized packet, for an oversized
 * CONNECT, for the budget of clients not logged in, for a login (or TLS handshake) not finished in
 * time, for a failed TLS handshake or a refused client certificate, for an MQTT version aedes does
 * not speak (MQTT 5); a login; a subscription; a message for a subscriber with
 * maxSubscriberQueueBytes queued already.
 */
export type BrokerRefusal =
  | 'packet'
  | 'connect'
  | 'budget'
  | 'timeout'
  | 'tls'
  | 'protocol'
  | 'login'
  | 'subscription'
  | 'subscriber-queue';

/** aedes' CONNACK return code for refused credentials (its AuthErrorCode is a const enum we cannot import). */
const BAD_USERNAME_OR_PASSWORD = 4;

/**
 * An MQTT broker (aedes) on the gateway for sensors that publish to it directly. The agent
 * subscribes inside the process, so telemetry takes no extra network hop; other clients may
 * subscribe as to any broker.
 *
 * Bounded: at most `maxClients` connections; a packet over maxPayloadBytes + 64 KiB closes its
 * connection at the header, and before login so does a CONNECT over `unauthenticated`'s limits
 * (size, shared budget, deadline); a subscriber that does not keep up has messages dropped for it
 * beyond maxSubscriberQueueBytes, so it never slows the sensors (subscriber-queue.ts); nothing is stored for later (aedes keeps retained messages and the
 * messages of offline persistent sessions without bound), so the retain flag is dropped and
 * clients with a persistent session (`clean: false`) may publish but not subscribe.
 */
export class MqttBrokerSource implements Source {
  readonly name: string;
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private stopped = false;
  private readonly deliver = (packet: AedesPublishPacket, done: () => void): void => {
    // With a write-ahead log the message was taken when it was authorised (see `policy`).
    if (!this.stopped && this.ackAfterLog === undefined) this.ingest(packet);
    done();
  };

  private ingest(packet: { readonly payload: string | Buffer; readonly topic: string }): void {
    this.pipeline.ingestJson(packet.payload as Buffer, this.config.maxPayloadBytes, `mqtt-broker ${packet.topic}`);
  }

  constructor(
    private readonly config: MqttBrokerSourceConfig,
    private readonly pipeline: IngestPipeline,
    private readonly log: Logger,
    /** Counts and reports each refusal (the agent logs them once per report interval). */
    private readonly refused: (what: BrokerRefusal, example: string) => void = () => undefined,
    private readonly ackAfterLog?: (release: () => void) => void,
    /** Where its config is, for errors about its files (`sources[0]`). */
    private readonly at = 'source',
  ) {
    this.name = config.name;
  }

  /** The port it listens on (useful with port 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    // Loaded here, not at import: an agent without an embedded broker does not load aedes.
    const { Aedes: AedesClass } = await import('aedes');
    const broker = await AedesClass.createBroker(this.policy());
    this.broker = broker;
    for (const topic of this.config.topics)
      await new Promise<void>((resolve) => broker.subscribe(topic, this.deliver, resolve));
    const { host, port, maxClients, unauthenticated, maxSubscriberQueueBytes, tls } = this.config;
    const maxPacketBytes = this.config.maxPayloadBytes + MQTT_PACKET_OVERHEAD_BYTES;
    this.server = await listenMqtt(
      broker,
      {
        host,
        port,
        maxClients,
        maxPacketBytes,
        unauthenticated,
        tls: tls === undefined ? undefined : tlsListenerOptions(tls, `${this.at}.tls`),
      },
      (kind, peer, reason) => this.refused(kind, `${peer}: ${reason}`),
      (client) =>
        boundSubscriberQueue(client, maxSubscriberQueueBytes, (c, queued) =>
          this.refused('subscriber-queue', `client ${JSON.stringify(c.id)} with ${queued} bytes queued`),
        ),
    );
    const identities = [
      ...(this.config.users.length > 0 ? ['logins'] : []),
      ...(this.certificates ? [`client certificates (${tls?.clientCertificates})`] : []),
    ];
    this.log.info(
      { host, port: this.port, users: this.config.users.length, tls: tls !== undefined },
      identities.length > 0
        ? `embedded MQTT broker listening; ${identities.join(' or ')} required`
        : 'embedded MQTT broker listening; open to any client',
    );
  }

  /** Clients may prove who they are with a certificate: every client must then have one, or a login. */
  private get certificates(): boolean {
    return this.config.tls !== undefined && this.config.tls.clientCertificates !== 'none';
  }

  /** Logins (when users are configured), no retained messages, no subscriptions kept for offline clients. */
  private policy(): Partial<AedesOptions> {
    const users = new Map(this.config.users.map((u) => [u.username, Buffer.from(u.password)]));
    return {
      // aedes speaks MQTT 3.1 and 3.1.1 and answers any other version with CONNACK 1, "unacceptable
      // protocol version" (MQTT-3.1.2-2): that sensor's readings never arrive, so say so.
      preConnect: (_client, packet, done) => {
        if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
          const spoke =
            packet.protocolVersion === 5 ? 'MQTT 5' : `MQTT protocol level ${String(packet.protocolVersion)}`;
          this.refused(
            'protocol',
            `client ${JSON.stringify(packet.clientId)} spoke ${spoke}; this broker (type mqtt-broker) takes MQTT 3.1.1 and 3.1 only: set the sensor to MQTT 3.1.1, or use a source of type mosquitto, which takes MQTT 5 too`,
          );
        }
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        // A certificate the sensors' CA signed admits its client (the source has no per-device rights).
        if (certifiedName(client.conn) !== undefined || (users.size === 0 && !this.certificates))
          return done(null, true);
        const expected = username === undefined ? undefined : users.get(username);
        if (
          expected !== undefined &&
          password !== undefined &&
          password.length === expected.length &&
          timingSafeEqual(password, expected)
        )
          return done(null, true);
        this.refused('login', `client ${JSON.stringify(client.id)} as ${JSON.stringify(username ?? '(no username)')}`);
        done(
          Object.assign(new Error('bad username or password'), {
            returnCode: BAD_USERNAME_OR_PASSWORD,
          }) as AuthenticateError,
          false,
        );
      },
      authorizePublish: (_client, packet, done) => {
        packet.retain = false;
        const ackAfterLog = this.ackAfterLog;
        if (
          ackAfterLog === undefined ||
          this.stopped ||
          !this.config.topics.some((filter) => topicMatches(filter, packet.topic))
        )
          return done(null);
        // aedes sends a QoS 1 PUBACK before its subscribers see the message, but only after this
        // callback: taken here, it is acknowledged once the write-ahead log holds it.
        this.ingest(packet);
        ackAfterLog(() => done(null));
      },
      authorizeSubscribe: (client, subscription, done) => {
        if (client.clean) return done(null, subscription);
        this.refused(
          'subscription',
          `client ${JSON.stringify(client.id)} (persistent session) to ${subscription.topic}`,
        );
        done(null, null); // refused in the SUBACK (0x80); the connection stays up
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const { broker, server } = this;
    this.broker = this.server = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Whether an MQTT topic filter matches a topic (MQTT 3.1.1 §4.7: `+` one level, `#` the rest; wildcards never match a leading `$`). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
