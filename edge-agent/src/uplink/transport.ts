import type { Ack } from '@tributary/firmware-schemas';

/** What a transport reports to the delivery core. */
export interface TransportEvents {
  connected(): void;
  disconnected(): void;
  /** The cloud's ack for one batch. */
  answered(ack: Ack): void;
  /** Sending `seq` failed; retry no sooner than `retryAfterMs` (from a Retry-After header). */
  failed(seq: number, retryAfterMs?: number): void;
}

/** How batches reach the cloud: MQTT QoS 1 with acks on a topic, or HTTP POST with the ack as answer. */
export interface UplinkTransport {
  readonly connected: boolean;
  start(events: TransportEvents): void;
  send(seq: number, payload: string): void;
  /** After this resolves nothing more is sent or reported. */
  stop(): Promise<void>;
}
