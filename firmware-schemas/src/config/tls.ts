import { z } from 'zod';

/** The path of a PEM file; it is read when the process starts (a missing or unreadable file fails the start, naming its key and path). */
const PemFile = z.string().min(1);

/**
 * Whether a TLS listener asks its clients for a certificate. `none`: it does not; clients log in
 * as before (passwords, tokens). `optional`: a client may present one, signed by `ca` and in date
 * (a bad one is refused); one without must log in with a password or token. `required`: every
 * client must present one. A certificate's common name (CN) is who the client is: an agent id.
 */
export const ClientCertificates = z.enum(['none', 'optional', 'required']);
export type ClientCertificates = z.output<typeof ClientCertificates>;

/**
 * TLS on a listener (the embedded brokers' `mqtts`, the processor's HTTPS): `cert` holds the
 * server's certificate followed by any intermediates, `key` its private key, and `ca` the CA that
 * signs clients' certificates. PEM files, read at start.
 */
export const TlsListenerConfig = z
  .object({
    cert: PemFile,
    key: PemFile,
    clientCertificates: ClientCertificates.default('none'),
    ca: PemFile.optional(),
  })
  .refine((t) => t.clientCertificates === 'none' || t.ca !== undefined, {
    path: ['ca'],
    message: 'required when clientCertificates is optional or required: the CA that signs the clients’ certificates',
  });
export type TlsListenerConfig = z.output<typeof TlsListenerConfig>;

/**
 * TLS as a client (`mqtts://` and `https://` URLs): `ca` is a private CA to trust (instead of the
 * system's), `cert` and `key` a client certificate to present (its CN the agent id). PEM files, read at start.
 */
export const TlsClientConfig = z
  .object({
    ca: PemFile.optional(),
    cert: PemFile.optional(),
    key: PemFile.optional(),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    path: ['key'],
    message: 'cert and key go together',
  });
export type TlsClientConfig = z.output<typeof TlsClientConfig>;

/**
 * For `.superRefine` of a client config with a `url` and a `tls`: TLS settings on a plain URL
 * would be ignored without a word, so they are an error.
 */
export function tlsNeedsSecureUrl(c: { url: string; tls?: unknown }, ctx: z.RefinementCtx): void {
  // The input shown is the tls setting, not the object: its URL may hold a password.
  if (c.tls !== undefined && !/^(mqtts|wss|https):/.test(c.url))
    ctx.addIssue({
      code: 'custom',
      path: ['tls'],
      input: c.tls,
      message: `set for a plain URL (${c.url.split(':')[0]}://): use mqtts:// or https://`,
    });
}
