import type { Socket } from 'node:net';

/**
 * Bytes a packet may hold besides its payload: the fixed header, the topic (at most 65,535
 * bytes), a packet id and MQTT 5 properties. A broker's packet limit is its payload limit plus this.
 */
export const MQTT_PACKET_OVERHEAD_BYTES = 64 * 1024;

/**
 * Follows the MQTT framing of one connection's incoming bytes and tells, from a packet's fixed
 * header alone, when the packet is over a limit. aedes has no packet size limit: it buffers a
 * whole packet (MQTT allows 256 MB) before any payload check can run. With this the connection is
 * closed at the header, before the body arrives. Pure; one per connection.
 *
 * Framing (MQTT 3.1.1 and 5, section 2.2): one byte of type and flags, then the remaining length
 * in 1 to 4 bytes of 7 bits each (least significant first, the high bit set on all but the last),
 * then that many bytes.
 */
export class MqttPacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(readonly maxPacketBytes: number) {}

  /** Takes the connection's next bytes; returns why it must be closed, or undefined. */
  check(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skipped = Math.min(this.remaining, chunk.length - i);
        i += skipped;
        this.remaining -= skipped;
        if (this.remaining === 0) this.state = 'type';
      } else if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.length = 0;
        this.lengthBytes = 0;
      } else {
        const byte = chunk[i++]!;
        this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
        this.lengthBytes++;
        if (byte & 0x80) {
          if (this.lengthBytes === 4) return 'malformed packet: remaining length longer than 4 bytes';
          continue;
        }
        const size = 1 + this.lengthBytes + this.length;
        if (size > this.maxPacketBytes) return `packet of ${size} bytes, over the limit of ${this.maxPacketBytes}`;
        this.remaining = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      }
    }
    return undefined;
  }
}

/**
 * Closes `socket` as soon as a packet over `maxPacketBytes` (or a malformed header) starts on it,
 * calling `refused` with the reason. Call before handing the socket to aedes.
 *
 * aedes reads its connection with `read()` (and Node's own flowing mode goes through it too), so
 * checking what `read` returns sees every byte before aedes' parser buffers it, without a second
 * stream in the path of every packet.
 */
export function limitMqttPackets(socket: Socket, maxPacketBytes: number, refused: (reason: string) => void): void {
  const guard = new MqttPacketSizeGuard(maxPacketBytes);
  const read = socket.read.bind(socket);
  socket.read = (size?: number): unknown => {
    const chunk: unknown = read(size);
    if (chunk instanceof Uint8Array && !socket.destroyed) {
      const reason = guard.check(chunk);
      if (reason !== undefined) {
        socket.destroy();
        refused(reason);
        return null;
      }
    }
    return chunk;
  };
}
