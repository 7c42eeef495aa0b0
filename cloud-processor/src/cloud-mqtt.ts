import type { ProcessorConfig } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import { MqttAlertSink } from './alerts/sinks/mqtt.js';
import { startBroker, type BrokerLink } from './broker/registry.js';
import type { FleetView } from './dashboard/fleet-view.js';
import type { Intake } from './ingest/intake.js';
import { MqttIngest, mqttIngestOptions } from './ingest/mqtt.js';
import type { Outputs, TransportDrops } from './outputs.js';

/**
 * The single processor's MQTT side: its broker (broker/registry.ts: the embedded aedes by default,
 * or an external one), started by `listen`, and its client there (ingest/mqtt.ts), started by
 * `subscribe`: every agent's batches into the intake and their acks back, the agents' presence to
 * the fleet view, and the alerts out (an MQTT alert sink). Constructing opens nothing.
 */
export class ProcessorMqtt {
  private broker: BrokerLink | undefined;
  private client: MqttIngest | undefined;

  constructor(
    private readonly config: ProcessorConfig,
    private readonly outputs: Outputs,
    private readonly log: Logger,
  ) {}

  /** The broker URL agents publish to (the embedded broker's, or the external one). */
  get url(): string {
    if (this.broker === undefined) throw new Error('cloud processor not started');
    return this.broker.url;
  }

  /** The client, once `subscribe` has made it (for /health and /metrics). */
  get ingest(): MqttIngest | undefined {
    return this.client;
  }

  /** What the client dropped itself (alert transitions it could not publish, batches shed), for the report. */
  get drops(): TransportDrops {
    return { alerts: this.client?.dropped ?? 0, shed: this.client?.shed ?? 0 };
  }

  /** Starts the broker (the embedded one reads its TLS files first: one that cannot be used fails the start). */
  async listen(): Promise<void> {
    const { config, outputs, log } = this;
    this.broker = await startBroker({ config, refused: (kind) => outputs.brokerRefused(kind), log });
  }

  /** After `listen`: connects the client and subscribes to every agent's batches, then sends the alerts through it. */
  async subscribe(intake: Intake, fleet: FleetView): Promise<void> {
    const onPresence = (agent: string, online: boolean): void => fleet.presence(agent, online);
    const client = (this.client = new MqttIngest(
      mqttIngestOptions(this.config.ingest, this.started(), onPresence),
      intake,
      this.log.child({ unit: 'ingest' }),
      this.outputs.ackSent,
    ));
    await client.start();
    this.outputs.addSink(new MqttAlertSink((topic, payload) => client.publish(topic, payload)));
  }

  /** Stops taking batches (the client disconnects); the broker stays up until `close`. */
  async stopIngest(): Promise<void> {
    await this.client?.stop();
  }

  async close(): Promise<void> {
    await this.broker?.close();
  }

  private started(): BrokerLink {
    if (this.broker === undefined) throw new Error('the broker is not listening');
    return this.broker;
  }
}
