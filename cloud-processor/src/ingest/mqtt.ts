import { agentOfTopic, topics, type Ack } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import { ForeignAgentError, type Intake } from './intake.js';
import type { BrokerSession, Deliver } from './session.js';

export interface MqttIngestOptions {
  /** How long the backlog may hold up reading before batches that do not fit are left unacked (ingest.maxStallMs). */
  readonly maxStallMs: number;
  /** An agent's presence (its retained status message, or its last will), when the broker lets us read them. */
  readonly onPresence?: ((agent: string, online: boolean) => void) | undefined;
}

/** Alert publishes allowed to wait for the broker at once. */
const MAX_UNACKED = 1_000;

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
 * Receives batches from the broker (embedded or external, through a BrokerSession), hands them to
 * the bounded intake and publishes each ack once the batch is written; also publishes alerts.
 *
 * Backpressure: the session hands over one message at a time and lets the broker go on with its
 * publisher (mqtt.js: sends the PUBACK and reads further packets; the embedded broker: reads the
 * agent's next packets) only when `deliver` calls back, which happens when the batch got a place
 * in the intake's backlog. When the backlog is full the broker holds the rest, for up to
 * `maxStallMs`; after that (InfluxDB down) batches that do not fit are taken and left unacked
 * (`shed`), so what the broker holds stays bounded by what the agents have in flight instead of
 * growing with every resend. What lets the agent delete a batch is the ack published here after
 * the write (so a batch lost from the backlog by a crash is sent again).
 */
export class MqttIngest {
  /** Acks the broker did not take (connection lost meanwhile): the agent re-sends those batches. */
  ackPublishFailures = 0;
  /** Batches left unacked because the backlog stayed full past maxStallMs (the agents send them again). */
  shed = 0;
  /** Since when arriving batches have found the backlog full with none taken in; undefined after progress. */
  private fullSince: number | undefined;
  /** Between `start` and `stop`: publishes go to the session (which may hold them while offline). */
  private open = false;

  constructor(
    private readonly session: BrokerSession,
    private readonly o: MqttIngestOptions,
    private readonly intake: Intake,
    private readonly log: Logger,
    private readonly onAckSent: () => void,
  ) {}

  /** Subscribes to every agent's batches; rejects, naming the broker and why, when it cannot (BrokerSession.open). */
  async start(): Promise<void> {
    this.open = true;
    try {
      await this.session.open(this.deliver);
    } catch (err) {
      this.open = false;
      throw err;
    }
  }

  private readonly deliver: Deliver = (topic, payload, done) => {
    if (topic.endsWith('/status')) {
      const agent = agentOfTopic(topic);
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
    const { admitted, ack } = this.intake.admit(payload, agentOfTopic(topic), wait);
    void admitted.then((queued) => {
      // A batch taken in is progress: only a backlog that admits nothing for maxStallMs sheds.
      if (queued) this.fullSince = undefined;
      else this.shed++;
      done();
    });
    ack.then(this.sendAck, (err: unknown) => {
      // A batch naming another agent than its topic's is answered as rejected on the topic's acks.
      if (err instanceof ForeignAgentError) this.sendAck(err.ack);
      else this.log.debug({ err: (err as Error).message }, 'batch not written; left unacked');
    });
  };

  private readonly sendAck = (a: Ack | undefined): void => {
    if (a === undefined) return;
    this.session.publish(topics.acks(a.agent), JSON.stringify(a), (err) => {
      if (!err) return;
      this.ackPublishFailures++;
      this.log.debug({ err: err.message, seq: a.seq }, 'ack publish failed; the agent will send the batch again');
    });
    this.onAckSent();
  };

  /** The broker connection, and since when it is down. */
  get connection(): { connected: boolean; downSinceMs: number | undefined } {
    return this.session.connection;
  }

  /** Since when the backlog has admitted no batch (ms since the epoch), or undefined. */
  get backlogFullSinceMs(): number | undefined {
    return this.fullSince;
  }

  /** Messages published at QoS 1 and not yet taken by the broker (an MQTT client keeps them while offline). */
  private unacked = 0;
  /** Publishes dropped because too many were waiting for the broker. */
  dropped = 0;

  /**
   * Publishes at QoS 1 (alerts). Beyond MAX_UNACKED messages waiting for the broker a new one is
   * dropped and counted, so an absent or slow broker cannot fill memory.
   */
  publish(topic: string, payload: string): void {
    if (!this.open || this.unacked >= MAX_UNACKED) {
      this.dropped++;
      return;
    }
    this.unacked++;
    this.session.publish(topic, payload, () => this.unacked--);
  }

  async stop(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.session.close();
  }
}
