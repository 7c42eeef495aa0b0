import type { AedesPublishPacket, Client } from 'aedes';

type Deliver = (packet: AedesPublishPacket, done: () => void) => void;

/** aedes' per-client delivery functions (not in its types): what a subscription calls for each message. */
interface DeliveringClient {
  deliver0: Deliver;
  deliverQoS: Deliver;
}

/**
 * Stops a slow subscriber from slowing the publishers. aedes hands each message to every
 * matching subscriber at once (mqemitter, 100 messages in flight) and finishes the publish —
 * reads the publisher's next packet — only when every subscriber's write has been taken by its
 * socket: once a client stops reading and its socket buffer is full, each write waits for a
 * `drain` (up to aedes' drainTimeout, 60 s), the 100 slots fill, and every sensor on the broker
 * waits with it (lib/client.js deliver0/deliverQoS, lib/write.js).
 *
 * With this, a delivery to `client` finishes at once: the message is handed to its socket when
 * what is queued for it (written and not yet taken by the kernel, plus handed over and not yet
 * written) stays within `maxQueuedBytes`, and dropped for this client otherwise (`dropped`), as
 * with QoS 0 to a client that is away. Call before the client can subscribe.
 */
export function boundSubscriberQueue(
  client: Client,
  maxQueuedBytes: number,
  dropped: (client: Client, queuedBytes: number) => void,
): void {
  const delivering = client as Client & DeliveringClient;
  let handedOver = 0;
  const bounded =
    (deliver: Deliver): Deliver =>
    (packet, done) => {
      // A publish packet's size on the wire, near enough: payload, topic and a few bytes of header.
      const bytes = packet.payload.length + packet.topic.length + 8;
      const queued = handedOver + client.conn.writableLength;
      if (queued + bytes > maxQueuedBytes) {
        dropped(client, queued);
        return done();
      }
      handedOver += bytes;
      // aedes calls back once the socket took the packet (or the connection closed).
      deliver(packet, () => (handedOver -= bytes));
      done();
    };
  delivering.deliver0 = bounded(delivering.deliver0);
  delivering.deliverQoS = bounded(delivering.deliverQoS);
}
