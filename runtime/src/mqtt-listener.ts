import { createServer, type Server, type Socket } from 'node:net';
import type { UnauthenticatedLimits } from '@tributary/firmware-schemas';
import { guardMqttConnection, UnauthenticatedBudget, type MqttConnectionGuard, type MqttConnectionRefusal } from './mqtt-connection-guard.js';

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
}

/**
 * Listens on host:port and hands each connection to `broker` behind a guardMqttConnection: anyone
 * may open a connection and start a CONNECT, so until the broker has accepted the login a
 * connection may hold only a small CONNECT, for a short time, within a budget shared by all of
 * them. `refused` hears of each connection closed, with its peer address; `connected` gets each
 * new client (before its CONNECT is read). Resolves once listening.
 */
export async function listenMqtt<Client extends object>(
  broker: GuardedBroker<Client>,
  options: MqttListenerOptions,
  refused: (kind: MqttConnectionRefusal, peer: string, reason: string) => void,
  connected: (client: Client) => void = () => undefined,
): Promise<Server> {
  const { maxConnectBytes, maxBufferedBytes, connectTimeoutMs } = options.unauthenticated;
  const beforeLogin = { maxConnectBytes, connectTimeoutMs, budget: new UnauthenticatedBudget(maxBufferedBytes) };
  const guards = new WeakMap<Client, MqttConnectionGuard>();
  broker.on('clientReady', (client) => guards.get(client)?.loggedIn());
  const server = createServer((socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const guard = guardMqttConnection(socket, { maxPacketBytes: options.maxPacketBytes, beforeLogin }, (kind, reason) => refused(kind, peer, reason));
    const client = broker.handle(socket);
    guards.set(client, guard);
    connected(client);
  });
  server.maxConnections = options.maxClients;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
