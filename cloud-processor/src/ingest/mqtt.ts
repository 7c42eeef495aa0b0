import type { Duplex } from 'node:stream';
import { agentOfTopic, topics, type Ack } from '@tributary/firmware-schemas';
import { mqttOptions, redactUrl, type Logger, type TlsFiles } from '@tributary/runtime';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';
import { ForeignAgentError, type Intake } from './intake.js';

/** Alert publishes allowed to wait for the broker at once. */
const MAX_UNACKED = 1_000;

export interface MqttIngestOptions {
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** MQTT client id of the processor's persistent session. */
  readonly clientId: string;
  readonly startTimeoutMs: number;
  /** How long the backlog may hold up reading before batches that do not fit are left unacked (ingest.maxStallMs). */
  readonly maxStallMs: number;
  /** An agent's presence (its retained status message, or its last will), when the broker lets us read them. */
  readonly onPresence?: (agent: string, online: boolean) => void;
  /** Connects inside this process (the embedded broker) instead of over `url`. */
  readonly inProcess?: () => Duplex;
  /** For an `mqtts://` URL: CA, certificate and key (tlsClientOptions). */
  readonly tls?: TlsFiles;
}

/** The ingest's options from the config's `ingest` section and the broker it connects to. */
export function mqttIngestOptions(
  ingest: { readonly mqttClientId: string; readonly startTimeoutMs: number; readonly maxStallMs: number },
  broker: {
    readonly url: string;
    readonly login: { readonly username?: string | undefined; readonly password?: string | undefined } | undefined;
    readonly connection: { readonly inProcess: () => Duplex } | { readonly tls: TlsFiles };
  },
  onPresence: (agent: string, online: boolean) => void,
): MqttIngestOptions {
  const { mqttClientId: clientId, startTimeoutMs, maxStallMs } = ingest;
  return {
    url: broker.url,
    username: broker.login?.username,
    password: broker.login?.password,
    clientId,
    startTimeoutMs,
    maxStallMs,
    onPresence,
    ...broker.connection,
  };
}

/** Bytes of a status message read at most: `{"online":true,"at":…}` is about 40. */
const MAX_STATUS_BYTES = 256;

/** `{"online": boolean}` of an agent's status message, or undefined when it is not one. */
export function parsePresence(payload: Buffer): boolean | undefined {
  if (payload.byteLength > MAX_STATUS_BYTES) return undefined;
  try {
    const status = JSON.parse(payload.toString('utf8')) as unknown;
    const online = typeof status === 'object' && status !== null ? (status as { online?: unknown }).online : undefined;
    return typeof online === 'boolean' ? online : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Receives batches from the broker (embedded or external), hands them to the bounded intake and
 * publishes each ack once the batch is written; also publishes alerts.
 *
 * Backpressure: mqtt.js hands over one packet at a time and sends the PUBACK (and reads further
 * packets) only when `handleMessage` calls back, which happens when the batch got a place in the
 * intake's backlog. When the backlog is full nothing more is read from the socket and the broker
 * holds the rest, for up to `maxStallMs`; after that (InfluxDB down) batches that do not fit are
 * read and left unacked (`shed`), so the broker's queue for this session stays bounded by what the
 * agents have in flight instead of growing with every resend. The PUBACK is transport-level; what lets the agent delete a batch is the ack
 * published here after the write (so a batch lost from the backlog by a crash is sent again).
 * A persistent session (clean: false) makes the broker keep batches published while we are down.
 */
export class MqttIngest {
  private client: MqttClient | undefined;
  /** Acks the broker did not take (connection lost meanwhile): the agent re-sends those batches. */
  ackPublishFailures = 0;
  /** Batches left unacked because the backlog stayed full past maxStallMs (the agents send them again). */
  shed = 0;
  /** Since when arriving batches have found the backlog full with none taken in; undefined after progress. */
  private fullSince: number | undefined;
  /** Since when the broker connection is down (ms since the epoch); undefined while connected. */
  private downSince: number | undefined = Date.now();

  constructor(
    private readonly o: MqttIngestOptions,
    private readonly intake: Intake,
    private readonly log: Logger,
    private readonly onAckSent: () => void,
  ) {}

  /**
   * Connects and subscribes to every agent's batches. Rejects, naming the broker and the last
   * error, when that has not succeeded within `startTimeoutMs` or the broker refuses the
   * subscription (its ACL), instead of waiting forever for a broker that is not there.
   */
  async start(): Promise<void> {
    const { url, clientId, startTimeoutMs } = this.o;
    const options: IClientOptions = {
      clientId,
      ...mqttOptions(this.o),
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    };
    const inProcess = this.o.inProcess;
    const client =
      inProcess !== undefined
        ? new MqttClient(() => inProcess(), options)
        : mqtt.connect(url, { ...options, ...this.o.tls });
    this.client = client;
    client.handleMessage = (packet, done) => {
      const payload = packet.payload as Buffer;
      if (packet.topic.endsWith('/status')) {
        const agent = agentOfTopic(packet.topic);
        const online = parsePresence(payload);
        if (agent !== undefined && online !== undefined) this.o.onPresence?.(agent, online);
        return done();
      }
      // Backpressure for up to maxStallMs; past it, read on and leave what does not fit unacked.
      let wait = this.o.maxStallMs;
      if (this.intake.hasRoom(payload.byteLength)) this.fullSince = undefined;
      else {
        this.fullSince ??= Date.now();
        wait -= Date.now() - this.fullSince;
        if (wait <= 0) {
          this.shed++;
          return done();
        }
      }
      const { admitted, ack } = this.intake.admit(payload, agentOfTopic(packet.topic), wait);
      void admitted.then((queued) => {
        // A batch taken in is progress: only a backlog that admits nothing for maxStallMs sheds.
        if (queued) this.fullSince = undefined;
        else this.shed++;
        done();
      });
      const sendAck = (a: Ack | undefined): void => {
        if (a === undefined) return;
        client.publish(topics.acks(a.agent), JSON.stringify(a), { qos: 1 }, (err) => {
          if (!err) return;
          this.ackPublishFailures++;
          this.log.debug({ err: err.message, seq: a.seq }, 'ack publish failed; the agent will send the batch again');
        });
        this.onAckSent();
      };
      ack.then(sendAck, (err: unknown) => {
        // A batch naming another agent than its topic's is answered as rejected on the topic's acks.
        if (err instanceof ForeignAgentError) sendAck(err.ack);
        else this.log.debug({ err: (err as Error).message }, 'batch not written; left unacked');
      });
    };
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
          if (this.o.onPresence)
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
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The broker connection, and since when it is down. */
  get connection(): { connected: boolean; downSinceMs: number | undefined } {
    return { connected: this.client?.connected === true, downSinceMs: this.downSince };
  }

  /** Since when the backlog has admitted no batch (ms since the epoch), or undefined. */
  get backlogFullSinceMs(): number | undefined {
    return this.fullSince;
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
