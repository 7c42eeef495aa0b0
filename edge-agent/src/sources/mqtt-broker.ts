import type { Logger, SourceConfig } from '@tributary/firmware-schemas';
import type { AedesPublishPacket, Aedes } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { IngestPipeline } from '../core/pipeline.js';
import type { Source } from './source.js';

type MqttBrokerSourceConfig = Extract<SourceConfig, { type: 'mqtt-broker' }>;

/**
 * An MQTT broker (aedes) on the gateway for sensors that publish to it directly. The agent
 * subscribes inside the process, so telemetry takes no extra network hop; other clients may
 * subscribe as to any broker.
 */
export class MqttBrokerSource implements Source {
  readonly name: string;
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private stopped = false;
  private readonly deliver = (packet: AedesPublishPacket, done: () => void): void => {
    if (!this.stopped) this.pipeline.ingestJson(packet.payload as Buffer, this.config.maxPayloadBytes, `mqtt-broker ${packet.topic}`);
    done();
  };

  constructor(
    private readonly config: MqttBrokerSourceConfig,
    private readonly pipeline: IngestPipeline,
    private readonly log: Logger,
  ) {
    this.name = config.name;
  }

  /** The port it listens on (useful with port 0). */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    // Loaded here, not at import: an agent without an embedded broker does not load aedes.
    const { Aedes: AedesClass } = await import('aedes');
    const broker = await AedesClass.createBroker();
    this.broker = broker;
    for (const topic of this.config.topics) await new Promise<void>((resolve) => broker.subscribe(topic, this.deliver, resolve));
    const server = createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    this.log.info({ host: this.config.host, port: this.port }, 'embedded MQTT broker listening');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const { broker, server } = this;
    this.broker = this.server = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
