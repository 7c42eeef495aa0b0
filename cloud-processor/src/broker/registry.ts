import type { BrokerConfig, ProcessorConfig } from '@tributary/firmware-schemas';
import { MQTT_PACKET_OVERHEAD_BYTES, tlsClientOptions, tlsListenerOptions, type Logger } from '@tributary/runtime';
import { MqttSession } from '../ingest/mqtt-session.js';
import type { BrokerSession } from '../ingest/session.js';
import { startEmbeddedBroker, type BrokerRefusal } from './embedded.js';

/** The broker the processor's MQTT ingest takes batches from, once started. */
export interface BrokerLink {
  /** The URL agents publish to. */
  readonly url: string;
  /**
   * The ingest's subscription there, with the agents' presence when `presence`: inside this
   * process for the embedded broker (no MQTT client), an MQTT client for an external one.
   */
  session(presence: boolean): BrokerSession;
  /** Stops a broker this process runs; nothing for an external one. */
  close(): Promise<void>;
}

export interface BrokerContext {
  readonly config: ProcessorConfig;
  /** Counts each refusal of the embedded broker (a closed connection, a login, a publish, …). */
  readonly refused: (kind: BrokerRefusal) => void;
  readonly log: Logger;
}

/**
 * Every broker mode by `broker.type`: `embedded` runs aedes in this process (broker/embedded.ts,
 * rights in broker/acl.ts); `external` connects to a broker someone else runs (Mosquitto, …).
 * (A cluster member takes batches from NATS instead: cluster/, chosen by `cluster:` in modes.ts.)
 */
const brokers: {
  [T in BrokerConfig['type']]: (config: Extract<BrokerConfig, { type: T }>, ctx: BrokerContext) => Promise<BrokerLink>;
} = {
  embedded: async (broker, { config, refused, log }) => {
    // The TLS files are read first: one that cannot be used fails the start before anything listens.
    const tls = broker.tls === undefined ? undefined : tlsListenerOptions(broker.tls, 'broker.tls');
    const started = await startEmbeddedBroker({
      host: broker.host,
      port: broker.port,
      users: broker.users,
      tls,
      maxClients: broker.maxClients,
      maxPacketBytes: config.maxBatchBytes + MQTT_PACKET_OVERHEAD_BYTES,
      unauthenticated: broker.unauthenticated,
      refused,
      log: log.child({ unit: 'broker' }),
    });
    const identities = [
      ...(broker.users.length > 0 ? ['logins'] : []),
      ...(tls !== undefined && tls.clientCertificates !== 'none'
        ? [`client certificates (${tls.clientCertificates})`]
        : []),
    ];
    log.info(
      { url: started.url, users: broker.users.length },
      identities.length > 0
        ? `embedded MQTT broker listening; ${identities.join(' or ')} required`
        : 'embedded MQTT broker listening; open to any client',
    );
    return {
      url: started.url,
      session: (presence) => started.session(presence),
      close: () => started.close(),
    };
  },
  external: async (broker, { config, log }) => {
    // The TLS files are read first: one that cannot be used fails the start before anything connects.
    const tls = tlsClientOptions(broker.tls, 'broker.tls');
    const { mqttClientId: clientId, startTimeoutMs } = config.ingest;
    const { url, username, password } = broker;
    return {
      url,
      session: (presence) =>
        new MqttSession(
          { url, username, password, clientId, startTimeoutMs, presence, tls },
          log.child({ unit: 'ingest' }),
        ),
      close: async () => undefined,
    };
  },
};

/** Starts (or names) the broker `config.broker` describes. */
export function startBroker(ctx: BrokerContext): Promise<BrokerLink> {
  const broker = ctx.config.broker;
  return (brokers[broker.type] as (c: BrokerConfig, x: BrokerContext) => Promise<BrokerLink>)(broker, ctx);
}
