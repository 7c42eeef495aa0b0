import { encodeTelemetry, topics, type Telemetry } from '@tributary/firmware-schemas';
import mqtt, { type MqttClient } from 'mqtt';
import type { Transport } from './transport.js';

export interface MqttTransportOptions {
  readonly url: string;
  readonly qos: 0 | 1;
  /** Unacknowledged QoS 1 publishes allowed before `send` makes the simulator wait. */
  readonly maxInFlight?: number;
  readonly clientId?: string;
}

/** Publishes telemetry on `sensors/{device}/telemetry` over one MQTT connection. */
export class MqttTransport implements Transport {
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];

  private constructor(
    private readonly client: MqttClient,
    private readonly options: MqttTransportOptions,
  ) {}

  static async connect(options: MqttTransportOptions): Promise<MqttTransport> {
    const client = await mqtt.connectAsync(options.url, { clientId: options.clientId ?? `tributary-sim-${process.pid}-${Date.now()}`, clean: true, reconnectPeriod: 1000 });
    return new MqttTransport(client, options);
  }

  send(message: Telemetry): void | Promise<void> {
    this.inFlight++;
    this.client.publish(topics.telemetry(message.device), encodeTelemetry(message), { qos: this.options.qos }, () => {
      this.inFlight--;
      if (this.inFlight <= (this.options.maxInFlight ?? 1000) / 2) this.wake();
      if (this.inFlight === 0) this.wake();
    });
    if (this.inFlight >= (this.options.maxInFlight ?? 1000)) return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Publishes payloads exactly as given (malformed or hostile ones included) and waits for them. */
  async publishRaw(topic: string, payloads: readonly string[]): Promise<void> {
    await Promise.all(payloads.map((p) => this.client.publishAsync(topic, p, { qos: this.options.qos })));
  }

  async flush(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    await this.client.endAsync();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
