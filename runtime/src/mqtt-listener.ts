import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { UnauthenticatedLimits } from '@tributary/firmware-schemas';
import {
  guardMqttConnection,
  UnauthenticatedBudget,
  type MqttConnectionGuard,
  type MqttConnectionRefusal,
} from './mqtt-connection-guard.js';
import { admitTlsClients, type TlsListenerOptions } from './tls.js';

/** An embedded broker as the listener sees it: aedes' Aedes, named by shape (this package does not load aedes). */
export interface GuardedBroker<Client extends object> {
  /** Takes a new connection; returns its client. */
  handle(socket: Socket): Client;
  /** `clientReady`: the client's login was accepted (CONNACK sent). */
  on(event: 'clientReady', listener: (client: Client) => void): unknown;
}

export interface MqttListenerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Connections at most; further ones are closed at once. */
  readonly maxClients: number;
  /** A connection that starts a larger packet is closed at the packet's header. */
  readonly maxPacketBytes: number;
  /** What a connection may send and hold before its client has logged in. */
  readonly unauthenticated: UnauthenticatedLimits;
  /** MQTT over TLS (`mqtts`) with these files and client certificate policy (tlsListenerOptions); plain MQTT when omitted. */
  readonly tls?: TlsListenerOptions | undefined;
}

/** Why the listener closed a connection: one of the guard's, or `tls` (a failed handshake, a refused client certificate). */
export type MqttListenerRefusal = MqttConnectionRefusal | 'tls';

/**
 * Listens on host:port and hands each connection to `broker` behind a guardMqttConnection: anyone
 * may open a connection and start a CONNECT, so until the broker has accepted the login a
 * connection may hold only a small CONNECT, for a short time, within a budget shared by all of
 * them. `refused` hears of each connection closed, with its peer address; `connected` gets each
 * new client (before its CONNECT is read). Resolves once listening.
 *
 * With `tls` the same guard reads the decrypted bytes once the handshake is done; the handshake
 * itself must finish within connectTimeoutMs (what it holds meanwhile is OpenSSL's, one handshake
 * message at most), and the login within connectTimeoutMs after it. A failed handshake or a
 * refused client certificate (admitTlsClients) closes the connection before aedes sees it.
 */
export async function listenMqtt<Client extends object>(
  broker: GuardedBroker<Client>,
  options: MqttListenerOptions,
  refused: (kind: MqttListenerRefusal, peer: string, reason: string) => void,
  connected: (client: Client) => void = () => undefined,
): Promise<Server> {
  const { maxConnectBytes, maxBufferedBytes, connectTimeoutMs } = options.unauthenticated;
  const beforeLogin = { maxConnectBytes, connectTimeoutMs, budget: new UnauthenticatedBudget(maxBufferedBytes) };
  const guards = new WeakMap<Client, MqttConnectionGuard>();
  broker.on('clientReady', (client) => guards.get(client)?.loggedIn());
  const accept = (socket: Socket): void => {
    if (socket.destroyed) return; // refused by admitTlsClients
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const guard = guardMqttConnection(socket, { maxPacketBytes: options.maxPacketBytes, beforeLogin }, (kind, reason) =>
      refused(kind, peer, reason),
    );
    const client = broker.handle(socket);
    guards.set(client, guard);
    connected(client);
  };
  let server: Server;
  if (options.tls === undefined) server = createServer(accept);
  else {
    const tlsServer = createTlsServer({ ...options.tls, handshakeTimeout: connectTimeoutMs }, accept);
    admitTlsClients(tlsServer, options.tls.clientCertificates, refused);
    server = tlsServer;
  }
  server.maxConnections = options.maxClients;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
