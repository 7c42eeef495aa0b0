import type { MqttClient } from 'mqtt';

/** mqtt.js's internal send, the one place every outgoing packet passes (handlers call it by name). */
type SendPacket = (
  packet: { cmd: string; messageId?: number; reasonCode?: number; properties?: unknown },
  cb?: (err?: Error) => void,
  ...rest: unknown[]
) => unknown;
interface SendsPackets {
  _sendPacket: SendPacket;
}

/** PUBACK: type 4 in the high nibble, remaining length 2 (the message id; reason code 0 is omitted, MQTT 5 §3.4.2.1). */
const PUBACK_HEADER = 0x40;
const PUBACK_BYTES = 4;
/** Acks gathered before a write is forced within one event-loop turn (16 KiB). */
const MAX_PENDING_ACKS = 4_096;

/**
 * mqtt.js answers every QoS 1 PUBLISH with a PUBACK of its own: a packet object, a cork and a
 * nextTick, three separate stream writes. Draining a backlog of small telemetry messages, that was
 * about a tenth of the agent's CPU per message. This makes the client gather the 4-byte PUBACKs of
 * the messages handled in one event-loop turn and write them as one buffer at the end of the turn.
 *
 * What stays as before: each PUBACK still goes out after its message was handled (the ingest is
 * synchronous, so "handled" is done when mqtt.js asks for the ack), in the order the messages
 * came (MQTT 3.1.1 §4.6); any other packet mqtt.js sends (a DISCONNECT on stop, a PINGREQ, a
 * SUBSCRIBE) first writes the acks gathered so far, so nothing overtakes them; and acks gathered on
 * a connection that has since closed are dropped, never written to the next one: the broker
 * redelivers those messages (at least once), as it would have with mqtt.js's own acks in flight.
 * Acks with a reason code or properties (not sent by this agent) take mqtt.js's own path.
 *
 * With `ackAfterLog` (the agent's write-ahead log), the acks gathered wait until everything logged
 * before them is durable: the broker forgets a message only once the log has it (DESIGN.md,
 * "Delivery"). A packet mqtt.js sends meanwhile may then overtake them; the ones still held when
 * their connection closed are dropped, and the broker re-delivers those messages.
 */
export function batchPubacks(client: MqttClient, ackAfterLog?: (release: () => void) => void): void {
  const target = client as unknown as SendsPackets;
  const send = target._sendPacket;
  if (typeof send !== 'function')
    throw new Error('mqtt.js no longer has _sendPacket: the PUBACK batcher must be updated with the mqtt version');
  const pending = Buffer.allocUnsafe(MAX_PENDING_ACKS * PUBACK_BYTES);
  let bytes = 0;
  let scheduled = false;
  let gatheredOn: MqttClient['stream'] | undefined;

  const flush = (): void => {
    scheduled = false;
    if (bytes === 0) return;
    const out = Buffer.from(pending.subarray(0, bytes));
    bytes = 0;
    const stream = gatheredOn;
    const write = (): void => {
      if (client.connected && client.stream === stream && stream !== undefined && !stream.destroyed) stream.write(out);
    };
    // With a write-ahead log, after the commit that holds their messages (in order: commits are).
    if (ackAfterLog === undefined) write();
    else ackAfterLog(write);
  };

  target._sendPacket = function (this: MqttClient, packet, cb, ...rest) {
    const id = packet.messageId;
    if (
      packet.cmd !== 'puback' ||
      !this.connected ||
      packet.reasonCode ||
      packet.properties !== undefined ||
      typeof id !== 'number'
    ) {
      flush();
      return send.call(this, packet, cb, ...rest);
    }
    if (gatheredOn !== this.stream) {
      bytes = 0;
      gatheredOn = this.stream;
    }
    if (bytes === pending.length) flush();
    pending[bytes] = PUBACK_HEADER;
    pending[bytes + 1] = 2;
    pending.writeUInt16BE(id, bytes + 2);
    bytes += PUBACK_BYTES;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    // mqtt.js's own write calls back synchronously too: the next packet is handled on the next tick.
    cb?.();
    return true;
  };
}
