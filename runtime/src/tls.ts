import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, TLSSocket, type Server as TlsServer } from 'node:tls';
import type { ClientCertificates, TlsClientConfig, TlsListenerConfig } from '@tributary/firmware-schemas';

/** A TLS file of the config that cannot be used: the message names the config key and the file. */
export class TlsConfigError extends Error {
  readonly code = 'tls_config';
}

type PemKind = 'CERTIFICATE' | 'PRIVATE KEY';

/** Reads the PEM file `path` of config key `key`; throws TlsConfigError when it is missing, unreadable or not PEM of that kind. */
function readPem(key: string, path: string, kind: PemKind): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(
      `${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  // RFC 7468 §2: "-----BEGIN CERTIFICATE-----"; keys come as PRIVATE KEY, EC PRIVATE KEY, RSA PRIVATE KEY.
  const begin = kind === 'CERTIFICATE' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;
  if (!begin.test(data.toString('latin1')))
    throw new TlsConfigError(`${key}: ${path} holds no PEM ${kind.toLowerCase()} (-----BEGIN ${kind}-----)`);
  return data;
}

/** Fails on a certificate out of date now: every peer would refuse it, so the start should say so. */
function checkInDate(key: string, path: string, pem: Buffer, now: number): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new TlsConfigError(`${key}: ${path} is not a readable certificate: ${(err as Error).message}`);
  }
  if (Date.parse(cert.validTo) < now)
    throw new TlsConfigError(
      `${key}: the certificate in ${path} (${cert.subject.replace(/\n/g, ', ')}) expired on ${cert.validTo}`,
    );
  if (Date.parse(cert.validFrom) > now)
    throw new TlsConfigError(
      `${key}: the certificate in ${path} (${cert.subject.replace(/\n/g, ', ')}) is valid only from ${cert.validFrom}`,
    );
}

/** The contents of the PEM files of a TLS setting, as tls.connect and tls.createServer take them. */
export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** The config key of each file of a TLS setting: `uplink.tls.ca`, or a command line's `--ca`. */
type KeyOf = (field: 'ca' | 'cert' | 'key') => string;
const keysUnder = (at: string | KeyOf): KeyOf => (typeof at === 'string' ? (field) => `${at}.${field}` : at);

/** Certificate, key and CA read and checked together (the key must be the certificate's). */
function secureFiles(
  keyOf: KeyOf,
  files: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined },
  now: number,
): TlsFiles {
  const out: TlsFiles = {};
  if (files.ca !== undefined) out.ca = readPem(keyOf('ca'), files.ca, 'CERTIFICATE');
  if (files.cert !== undefined && files.key !== undefined) {
    out.cert = readPem(keyOf('cert'), files.cert, 'CERTIFICATE');
    out.key = readPem(keyOf('key'), files.key, 'PRIVATE KEY');
    checkInDate(keyOf('cert'), files.cert, out.cert, now);
  }
  try {
    createSecureContext(out);
  } catch (err) {
    const used = (['cert', 'key', 'ca'] as const).filter((f) => files[f] !== undefined);
    throw new TlsConfigError(
      `${used.map(keyOf).join(', ')}: ${used.map((f) => files[f]).join(', ')} cannot be used together: ${(err as Error).message}`,
    );
  }
  return out;
}

/** What a TLS listener is started with: its secure context options and whether it asks for client certificates. */
export interface TlsListenerOptions extends TlsFiles {
  readonly requestCert: boolean;
  /** Always false: admitTlsClients refuses bad certificates itself, so the refusal has a reason and a peer. */
  readonly rejectUnauthorized: false;
  readonly clientCertificates: ClientCertificates;
}

/** Reads a listener's PEM files (config key `at`, e.g. `broker.tls`); throws TlsConfigError naming the key and the file. */
export function tlsListenerOptions(config: TlsListenerConfig, at: string, now = Date.now()): TlsListenerOptions {
  const files = secureFiles(
    keysUnder(at),
    { cert: config.cert, key: config.key, ...(config.clientCertificates === 'none' ? {} : { ca: config.ca }) },
    now,
  );
  return {
    ...files,
    requestCert: config.clientCertificates !== 'none',
    rejectUnauthorized: false,
    clientCertificates: config.clientCertificates,
  };
}

/** Reads a client's PEM files (config key `at`, e.g. `uplink.tls`) into the options of tls.connect; none without config. */
export function tlsClientOptions(config: TlsClientConfig | undefined, at: string | KeyOf, now = Date.now()): TlsFiles {
  return config === undefined ? {} : secureFiles(keysUnder(at), config, now);
}

/**
 * The name a client's certificate proves: its subject's single common name, when the connection
 * is TLS and the certificate was verified against the listener's CA (admitTlsClients has closed
 * any connection whose certificate was not).
 */
export function certifiedName(conn: unknown): string | undefined {
  if (!(conn instanceof TLSSocket) || !conn.authorized) return undefined;
  const cn: unknown = conn.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

/** Why a TLS listener closed a connection: `tls` for the handshake or the certificate, `timeout` for a handshake not finished in time. */
export type TlsRefusal = 'tls' | 'timeout';

/** Errors that mean the client went away mid-handshake: no refusal of ours. */
const HUNG_UP = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Refuses, on a TLS listener, what its `clientCertificates` setting does not admit, calling
 * `refused` with the peer and why: a handshake that fails (plain MQTT or HTTP on the TLS port, no
 * shared protocol version or cipher), one not finished within the server's handshakeTimeout, a
 * certificate that is not signed by the CA or out of date (checked here rather than by OpenSSL,
 * which would drop the connection without a reason), and, when `required`, no certificate.
 * Register before the server's own 'secureConnection' listeners (it prepends itself).
 */
export function admitTlsClients(
  server: TlsServer,
  mode: ClientCertificates,
  refused: (kind: TlsRefusal, peer: string, reason: string) => void,
): void {
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const peer = `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? '?'}`;
    // Node leaves the connection open after a handshake timeout: it would hold a slot (and the server's close) forever.
    socket.destroy();
    if (HUNG_UP.has(err.code ?? '')) return;
    if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT')
      refused('timeout', peer, 'no TLS handshake within the connect timeout');
    else refused('tls', peer, `TLS handshake failed: ${err.code ?? err.message}`);
  });
  if (mode === 'none') return;
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const presented = Object.keys(socket.getPeerCertificate()).length > 0;
    const reason = !presented
      ? mode === 'required'
        ? 'no client certificate'
        : undefined
      : socket.authorized
        ? undefined
        : `client certificate refused: ${String(socket.authorizationError)}`;
    if (reason === undefined) return;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.destroy();
    refused('tls', peer, reason);
  });
}
