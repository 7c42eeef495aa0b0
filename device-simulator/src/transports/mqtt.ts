import type { TlsFiles } from '@tributary/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import type { Frame } from '../device.js';
import type { Transport } from './transport.js';

export interface MqttTransportOptions {
  readonly url: string;
  readonly qos: 0 | 1;
  /**
   * Connections the devices are spread over (a device always uses the same one, so its messages
   * stay in order), or `per-device`: one connection per device id in `devices`, as real devices
   * connect (realistic at small scale; each connection costs a socket and a broker session).
   */
  readonly connections?: number | 'per-device';
  /** Device ids, for `per-device` (each gets its own client id and connection). */
  readonly devices?: readonly string[];
  /** Unfinished publishes (QoS 1: unacknowledged; QoS 0: unwritten) before `send` makes the simulator wait. */
  readonly maxInFlight?: number;
  /** Client id prefix; connection n is `<prefix>-<n>`, a per-device one `<prefix>-<device>`. */
  readonly clientId?: string;
  /** For an `mqtts://` URL: a private CA to trust, a client certificate and key (tlsClientOptions). */
  readonly tls?: TlsFiles;
}

/** Opening thousands of connections at once would stall the broker's accept queue. */
const CONNECT_CONCURRENCY = 50;

/** Publishes frames on their telemetry topic over one or more MQTT connections. */
export class MqttTransport implements Transport {
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly byDevice = new Map<string, MqttClient>();
  private next = 0;
  private readonly maxInFlight: number;

  private constructor(
    private readonly clients: readonly MqttClient[],
    private readonly options: MqttTransportOptions,
    perDevice: ReadonlyMap<string, MqttClient> | undefined,
  ) {
    this.maxInFlight = options.maxInFlight ?? 1000;
    if (perDevice) for (const [d, c] of perDevice) this.byDevice.set(d, c);
  }

  static async connect(options: MqttTransportOptions): Promise<MqttTransport> {
    const prefix = options.clientId ?? `tributary-sim-${process.pid}-${Date.now().toString(36)}`;
    const perDevice = options.connections === 'per-device';
    if (perDevice && (options.devices === undefined || options.devices.length === 0))
      throw new Error('connections: per-device needs the device ids');
    const ids = perDevice
      ? options.devices!.map((d) => `${prefix}-${d}`.slice(0, 128))
      : Array.from(
          { length: Math.max(1, (options.connections as number | undefined) ?? 1) },
          (_, i) => `${prefix}-${i}`,
        );
    const clients: MqttClient[] = [];
    try {
      for (let i = 0; i < ids.length; i += CONNECT_CONCURRENCY) {
        const batch = ids.slice(i, i + CONNECT_CONCURRENCY);
        clients.push(
          ...(await Promise.all(
            batch.map((clientId) =>
              mqtt.connectAsync(options.url, {
                clientId,
                clean: true,
                reconnectPeriod: 1000,
                connectTimeout: 10_000,
                ...options.tls,
              }),
            ),
          )),
        );
      }
    } catch (err) {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      throw err;
    }
    const map = perDevice ? new Map(options.devices!.map((d, i) => [d, clients[i]!])) : undefined;
    return new MqttTransport(clients, options, map);
  }

  get connections(): number {
    return this.clients.length;
  }

  send(frame: Frame): void | Promise<void> {
    this.publish(frame.device, frame.topic, frame.payload);
    if (this.inFlight >= this.maxInFlight) return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Publishes payloads exactly as given (malformed or hostile ones included) and waits for them. */
  async publishRaw(topic: string, payloads: readonly string[]): Promise<void> {
    await Promise.all(payloads.map((p) => this.clients[0]!.publishAsync(topic, p, { qos: this.options.qos })));
  }

  async flush(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    await Promise.all(this.clients.map((c) => c.endAsync()));
  }

  private publish(device: string, topic: string, payload: string): void {
    let client = this.byDevice.get(device);
    if (client === undefined) {
      client = this.clients[this.next++ % this.clients.length]!;
      this.byDevice.set(device, client);
    }
    this.inFlight++;
    client.publish(topic, payload, { qos: this.options.qos }, this.done);
  }

  private readonly done = (): void => {
    this.inFlight--;
    if (this.inFlight <= this.maxInFlight / 2 || this.inFlight === 0) this.wake();
  };

  private wake(): void {
    if (this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
  }
}
