import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import { certifiedName, listenMqtt, Throttle, type Logger, type MqttListenerOptions } from '@tributary/runtime';
import { AGENT_CLIENT_PREFIX, BrokerAcl, type BrokerUser } from './acl.js';
import { inProcessConnection } from './in-process-connection.js';

/** The embedded MQTT broker (aedes) the cloud processor runs by default. */
export interface EmbeddedBroker {
  /** What agents connect to: `mqtt://host:port`, or `mqtts://` with TLS. */
  readonly url: string;
  readonly port: number;
  /** What the processor's own client logs in with, when the broker requires users. */
  readonly processorLogin: { username: string; password: string } | undefined;
  /**
   * A connection to the broker inside this process, for the processor's own client: it crosses
   * no network, so it needs neither TLS nor a client certificate, and no limit before login applies.
   */
  connectInProcess(): Duplex;
  close(): Promise<void>;
}

/** host, port, maxClients, maxPacketBytes, the limits before login and TLS: see listenMqtt. */
export interface EmbeddedBrokerOptions extends MqttListenerOptions {
  /**
   * When non-empty, every client must log in as one of these (broker-acl.ts says what each role
   * may do); with TLS client certificates, a client with a verified one is who its CN names.
   */
  readonly users?: readonly (BrokerUser & { role: 'agent' | 'reader' })[];
  readonly processorClientId: string;
  /**
   * Called for each refusal: an oversized or malformed packet, an oversized CONNECT, the budget
   * of clients not logged in, a login (or TLS handshake) not finished in time, a failed TLS
   * handshake or refused client certificate (each closes its connection), an MQTT version aedes
   * does not speak, a login, a publish, a subscription, a persistent session.
   */
  readonly refused: (kind: BrokerRefusal) => void;
  readonly log: Logger;
}

export type BrokerRefusal =
  | 'packet'
  | 'connect'
  | 'budget'
  | 'timeout'
  | 'tls'
  | 'protocol'
  | 'login'
  | 'publish'
  | 'subscription'
  | 'session';

/** What each refusal of a connection by the listener is logged as. */
const listenerRefusalMessage: Record<'packet' | 'connect' | 'budget' | 'timeout' | 'tls', string> = {
  packet: 'MQTT connection closed before a packet over the size limit was buffered',
  connect: 'MQTT connection closed before login',
  budget: 'MQTT connection closed before login',
  timeout: 'MQTT connection closed before login',
  tls: 'MQTTS connection refused: TLS handshake or client certificate',
};

/** aedes' CONNACK return code for refused credentials (its AuthErrorCode is a const enum we cannot import). */
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

/** Starts aedes on host:port, open to anyone, or with users and per-role topic rights when `users` are given. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { host, users = [], log } = options;
  // Client certificates are identities as users are: with either, every client must prove who it is.
  const identified = users.length > 0 || (options.tls !== undefined && options.tls.clientCertificates !== 'none');
  let processorLogin: EmbeddedBroker['processorLogin'];
  let broker: Aedes;
  // Every refusal is counted; each kind is logged at most once per 10 s, so a client retrying in a
  // loop (or a scan) cannot flood the log.
  const warnings = new Map<BrokerRefusal, Throttle>();
  const refuse = (kind: BrokerRefusal, fields: object, message: string): void => {
    options.refused(kind);
    const throttle = warnings.get(kind) ?? warnings.set(kind, new Throttle(10_000)).get(kind)!;
    if (throttle.ready()) log.warn(fields, `${message} (further ones for 10 s are only counted)`);
  };
  // The broker keeps every message for an offline persistent session, without bound: only the
  // processor and agents (whose acks are few) may have one; anyone else must connect clean.
  const sessionRefused = (client: Client): AuthenticateError | undefined => {
    if (client.clean || client.id === options.processorClientId || client.id.startsWith(AGENT_CLIENT_PREFIX))
      return undefined;
    refuse(
      'session',
      { clientId: client.id },
      'persistent MQTT session refused: only agents and the processor may have one',
    );
    return Object.assign(new Error('persistent sessions are for agents and the processor'), {
      returnCode: NOT_AUTHORIZED,
    }) as AuthenticateError;
  };
  // aedes speaks MQTT 3.1 and 3.1.1 and answers any other version with CONNACK 1 (MQTT-3.1.2-2).
  const preConnect: AedesOptions['preConnect'] = (_client, packet, done) => {
    if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
      const spoke = packet.protocolVersion === 5 ? 'MQTT 5' : `MQTT protocol level ${String(packet.protocolVersion)}`;
      refuse(
        'protocol',
        { clientId: packet.clientId, spoke },
        "MQTT client refused for its version: the embedded broker takes MQTT 3.1.1 and 3.1; set the agent's uplink.protocolVersion to 4, or use an external broker that speaks MQTT 5",
      );
    }
    done(null, true);
  };
  if (!identified) {
    broker = await Aedes.createBroker({
      preConnect,
      authenticate: (client, _username, _password, done) => {
        const refused = sessionRefused(client);
        done(refused ?? null, refused === undefined);
      },
    });
  } else {
    processorLogin = {
      username: `tributary-processor-${randomBytes(6).toString('hex')}`,
      password: randomBytes(24).toString('base64'),
    };
    const acl = new BrokerAcl([...users, { ...processorLogin, role: 'processor' }], options.processorClientId);
    const who = new WeakMap<Client, BrokerUser>();
    broker = await Aedes.createBroker({
      preConnect,
      authenticate: (client, username, password, done) => {
        const certified = certifiedName(client.conn);
        const user =
          certified === undefined
            ? acl.authenticate(client.id, username, password)
            : acl.certified(client.id, certified, username);
        if (user) {
          const refused = sessionRefused(client);
          if (refused) return done(refused, false);
          who.set(client, user);
          return done(null, true);
        }
        refuse(
          'login',
          { clientId: client.id, username, ...(certified !== undefined && { certificate: certified }) },
          'MQTT login refused',
        );
        const err = Object.assign(new Error('bad username or password'), {
          returnCode: BAD_USERNAME_OR_PASSWORD,
        }) as AuthenticateError;
        done(err, false);
      },
      authorizePublish: (client, packet, done) => {
        const user = client ? who.get(client) : undefined;
        if (user && acl.mayPublish(user, packet.topic)) return done(null);
        refuse(
          'publish',
          { clientId: client?.id, username: user?.username, topic: packet.topic },
          'MQTT publish refused',
        );
        done(new Error(`not allowed to publish to ${packet.topic}`));
      },
      authorizeSubscribe: (client, sub, done) => {
        const user = who.get(client);
        if (user && acl.maySubscribe(user, sub.topic)) return done(null, sub);
        refuse(
          'subscription',
          { clientId: client.id, username: user?.username, topic: sub.topic },
          'MQTT subscription refused',
        );
        done(null, null); // refused in the SUBACK (0x80), the connection stays up
      },
    });
  }
  const server = await listenMqtt(broker, options, (kind, peer, reason) =>
    refuse(kind, { peer, reason }, listenerRefusalMessage[kind]),
  );
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls === undefined ? 'mqtt' : 'mqtts'}://${host}:${actual}`,
    port: actual,
    processorLogin,
    connectInProcess: () => {
      const [client, server] = inProcessConnection();
      broker.handle(server as Parameters<Aedes['handle']>[0]);
      return client;
    },
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
