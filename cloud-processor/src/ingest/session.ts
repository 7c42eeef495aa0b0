/**
 * A message from the broker, handed to the ingest one at a time: the next comes only after `done`,
 * and until then the broker holds its publisher (the agent), as a full socket would.
 */
export type Deliver = (topic: string, payload: Buffer, done: () => void) => void;

/**
 * The ingest's subscription to a broker: the embedded one inside this process
 * (broker/local-session.ts: publishes straight from aedes, no MQTT packet written or parsed) or
 * any broker over MQTT (ingest/mqtt-session.ts, mqtt.js). What the ingest does with a message once
 * it arrives is the same code for both (ingest/mqtt.ts).
 */
export interface BrokerSession {
  /**
   * Subscribes to every agent's batches (and to their presence when asked) and resolves once
   * subscribed; rejects, naming the broker and why, when that has not happened within the start timeout.
   */
  open(deliver: Deliver): Promise<void>;
  /** Publishes at QoS 1; `done` once the broker has the message, with an error when it does not. */
  publish(topic: string, payload: string, done: (err?: Error) => void): void;
  /** Connected now, and since when not (ms since the epoch). */
  readonly connection: { connected: boolean; downSinceMs: number | undefined };
  close(): Promise<void>;
}
