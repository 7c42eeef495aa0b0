import type { Duplex } from 'node:stream';
import type { BrokerConfig, ProcessorConfig } from '@tributary/firmware-schemas';
import {
  MQTT_PACKET_OVERHEAD_BYTES,
  tlsClientOptions,
  tlsListenerOptions,
  type Logger,
  type TlsFiles,
} from '@tributary/runtime';
import { startEmbeddedBroker, type BrokerRefusal } from './embedded.js';

/** The broker the processor's MQTT ingest connects to, once started. */
export interface BrokerLink {
  /** The URL agents publish to and the ingest connects to. */
  readonly url: string;
  /** What the processor's own client logs in with (the embedded broker's generated login, or the config's). */
  readonly login: { readonly username?: string | undefined; readonly password?: string | undefined } | undefined;
  /** How the ingest reaches it: the embedded broker in-process, an external one over its URL (with TLS files when set). */
  readonly connection: { readonly inProcess: () => Duplex } | { readonly tls: TlsFiles };
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
      processorClientId: config.ingest.mqttClientId,
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
      login: started.processorLogin,
      connection: { inProcess: () => started.connectInProcess() },
      close: () => started.close(),
    };
  },
  external: async (broker) => ({
    url: broker.url,
    login: broker,
    connection: { tls: tlsClientOptions(broker.tls, 'broker.tls') },
    close: async () => undefined,
  }),
};

/** Starts (or names) the broker `config.broker` describes. */
export function startBroker(ctx: BrokerContext): Promise<BrokerLink> {
  const broker = ctx.config.broker;
  return (brokers[broker.type] as (c: BrokerConfig, x: BrokerContext) => Promise<BrokerLink>)(broker, ctx);
}
