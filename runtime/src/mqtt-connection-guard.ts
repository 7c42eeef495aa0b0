import type { Socket } from 'node:net';

/**
 * Bytes a packet may hold besides its payload: the fixed header, the topic (at most 65,535
 * bytes), a packet id and MQTT 5 properties. A broker's packet limit is its payload limit plus this.
 */
export const MQTT_PACKET_OVERHEAD_BYTES = 64 * 1024;

/** Why a connection was closed before its bytes reached the broker. */
export type MqttConnectionRefusal =
  /** A packet over the broker's packet limit, or a malformed fixed header. */
  | 'packet'
  /** Before login: a CONNECT over maxConnectBytes, or a first packet that is not a CONNECT. */
  | 'connect'
  /** Before login: the bytes of every connection not logged in would pass their shared budget. */
  | 'budget'
  /** No login within connectTimeoutMs. */
  | 'timeout';

/** Bytes read by connections whose clients have not logged in yet, across one broker. */
export class UnauthenticatedBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  /** Takes `n` bytes when they fit; false (and nothing taken) when they would pass the budget. */
  take(n: number): boolean {
    if (this.used + n > this.maxBytes) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used -= n;
  }
}

/** What a connection may do before its client has logged in. */
export interface BeforeLoginLimits {
  readonly maxConnectBytes: number;
  /** Shared by every connection of one broker. */
  readonly budget: UnauthenticatedBudget;
}

const CONNECT = 1;

/**
 * Follows the MQTT framing of one connection's incoming bytes and tells, from a packet's fixed
 * header alone, when the connection must be closed: aedes has no packet size limit and buffers a
 * whole packet (MQTT allows 256 MB) before any check can run, and it reads a CONNECT from anyone.
 * With this the connection is closed at the header, before the body arrives. Until `loggedIn()`,
 * the first packet must be a CONNECT (MQTT 3.1.1 [MQTT-3.1.0-1]) of at most maxConnectBytes, and
 * every byte read is held against the broker's UnauthenticatedBudget. Pure; one per connection.
 *
 * Framing (MQTT 3.1.1 and 5, section 2.2): one byte of type (high nibble) and flags, then the
 * remaining length in 1 to 4 bytes of 7 bits each (least significant first, the high bit set on
 * all but the last), then that many bytes.
 */
export class MqttPacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private length = 0;
  private lengthBytes = 0;
  private remaining = 0;
  private packets = 0;
  private held = 0;
  private beforeLogin: BeforeLoginLimits | undefined;

  constructor(
    readonly maxPacketBytes: number,
    beforeLogin?: BeforeLoginLimits,
  ) {
    this.beforeLogin = beforeLogin;
  }

  /** Takes the connection's next bytes; returns why it must be closed, or undefined. */
  check(chunk: Uint8Array): { kind: MqttConnectionRefusal; reason: string } | undefined {
    const refused = this.frame(chunk);
    if (refused !== undefined) return refused;
    const limits = this.beforeLogin;
    if (limits === undefined) return undefined;
    if (!limits.budget.take(chunk.length)) {
      return {
        kind: 'budget',
        reason: `clients not logged in hold ${limits.budget.bytes} bytes; ${chunk.length} more would pass the budget of ${limits.budget.maxBytes}`,
      };
    }
    this.held += chunk.length;
    return undefined;
  }

  /** The client has logged in: its bytes leave the budget and its packets may be as large as maxPacketBytes. */
  loggedIn(): void {
    this.release();
    this.beforeLogin = undefined;
  }

  /** Gives the bytes this connection holds back to the budget (when it closes). */
  release(): void {
    this.beforeLogin?.budget.give(this.held);
    this.held = 0;
  }

  private frame(chunk: Uint8Array): { kind: MqttConnectionRefusal; reason: string } | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skipped = Math.min(this.remaining, chunk.length - i);
        i += skipped;
        this.remaining -= skipped;
        if (this.remaining === 0) this.state = 'type';
      } else if (this.state === 'type') {
        this.type = chunk[i++]! >> 4;
        this.packets++;
        this.state = 'length';
        this.length = 0;
        this.lengthBytes = 0;
      } else {
        const byte = chunk[i++]!;
        this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
        this.lengthBytes++;
        if (byte & 0x80) {
          if (this.lengthBytes === 4)
            return { kind: 'packet', reason: 'malformed packet: remaining length longer than 4 bytes' };
          continue;
        }
        const size = 1 + this.lengthBytes + this.length;
        const first = this.beforeLogin !== undefined && this.packets === 1;
        if (first && this.type !== CONNECT)
          return {
            kind: 'connect',
            reason: `the first packet must be a CONNECT (MQTT-3.1.0-1), not one of type ${this.type}`,
          };
        if (first && size > this.beforeLogin!.maxConnectBytes)
          return {
            kind: 'connect',
            reason: `CONNECT of ${size} bytes, over the limit of ${this.beforeLogin!.maxConnectBytes} before login`,
          };
        if (size > this.maxPacketBytes)
          return { kind: 'packet', reason: `packet of ${size} bytes, over the limit of ${this.maxPacketBytes}` };
        this.remaining = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      }
    }
    return undefined;
  }
}

export interface MqttConnectionLimits {
  /** A connection that starts a larger packet is closed at the packet's header. */
  readonly maxPacketBytes: number;
  /** Until the client logs in; omit for a connection trusted from the start. */
  readonly beforeLogin?: BeforeLoginLimits & { readonly connectTimeoutMs: number };
}

/** Tells a guarded connection that its client has logged in. */
export interface MqttConnectionGuard {
  loggedIn(): void;
}

/**
 * Closes `socket` as soon as a packet over the limits (or a malformed header) starts on it, when
 * the bytes of clients not logged in would pass their budget, or when its client has not logged
 * in within connectTimeoutMs, calling `refused` with the kind and reason. Call before handing the
 * socket to aedes, and call `loggedIn()` on the guard when aedes has accepted the client.
 *
 * aedes reads its connection with `read()` (and Node's own flowing mode goes through it too), so
 * checking what `read` returns sees every byte before aedes' parser buffers it, without a second
 * stream in the path of every packet.
 */
export function guardMqttConnection(
  socket: Socket,
  limits: MqttConnectionLimits,
  refused: (kind: MqttConnectionRefusal, reason: string) => void,
): MqttConnectionGuard {
  const guard = new MqttPacketSizeGuard(limits.maxPacketBytes, limits.beforeLogin);
  const refuse = (kind: MqttConnectionRefusal, reason: string): void => {
    socket.destroy();
    refused(kind, reason);
  };
  const timeoutMs = limits.beforeLogin?.connectTimeoutMs;
  let deadline =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => refuse('timeout', `no login within ${timeoutMs} ms`), timeoutMs);
  socket.once('close', () => {
    clearTimeout(deadline);
    guard.release();
  });
  const read = socket.read.bind(socket);
  socket.read = (size?: number): unknown => {
    const chunk: unknown = read(size);
    if (chunk instanceof Uint8Array && !socket.destroyed) {
      const refusal = guard.check(chunk);
      if (refusal !== undefined) {
        refuse(refusal.kind, refusal.reason);
        return null;
      }
    }
    return chunk;
  };
  return {
    loggedIn: () => {
      clearTimeout(deadline);
      deadline = undefined;
      guard.loggedIn();
    },
  };
}
