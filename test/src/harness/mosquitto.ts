import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Issued } from './pki.js';
import { freePort } from './ports.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';
import { which } from './which.js';

/** A login Mosquitto checks against its password file (with any users, anonymous clients are refused). */
export interface MosquittoUser {
  readonly username: string;
  readonly password: string;
}

export interface Mosquitto {
  readonly url: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A TLS listener that requires client certificates signed by `ca` (`client` is one, for the readiness probe). */
export interface MosquittoTls {
  readonly ca: string;
  readonly server: Issued;
  readonly client: Issued;
}

/**
 * A private Mosquitto on a free loopback port. Its defaults would drop QoS 1 messages queued for
 * a slow subscriber (max_queued_messages 1000) and slow QoS 1 publishers (set_tcp_nodelay false);
 * both are set deliberately here (DESIGN.md, "Real parts"). Run as root, it stays the current user
 * rather than dropping to `mosquitto`, so it can read the password file in the private temp dir.
 */
export async function startMosquitto(
  options: { users?: readonly MosquittoUser[]; maxInflightMessages?: number; tls?: MosquittoTls } = {},
): Promise<Mosquitto> {
  const binary = which('mosquitto');
  if (binary === undefined) throw new Error('mosquitto was not found: sudo apt-get install -y mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-mosquitto-'));
  const port = await freePort();
  const users = options.users ?? [];
  const passwords = join(dir, 'passwords');
  for (const [i, u] of users.entries())
    execFileSync(which('mosquitto_passwd') ?? 'mosquitto_passwd', [
      ...(i === 0 ? ['-c'] : []),
      '-b',
      passwords,
      u.username,
      u.password,
    ]);
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    `listener ${port} 127.0.0.1
${options.tls === undefined ? '' : `cafile ${options.tls.ca}\ncertfile ${options.tls.server.cert}\nkeyfile ${options.tls.server.key}\nrequire_certificate true\nuse_identity_as_username true\n`}user ${userInfo().username}
${users.length === 0 ? 'allow_anonymous true' : `allow_anonymous false\npassword_file ${passwords}`}
persistence false
max_queued_messages 1000000
max_inflight_messages ${options.maxInflightMessages ?? 100}
set_tcp_nodelay true
log_dest stderr
log_type error
`,
  );
  const url = `${options.tls === undefined ? 'mqtt' : 'mqtts'}://127.0.0.1:${port}`;
  const tls =
    options.tls === undefined
      ? {}
      : {
          ca: readFileSync(options.tls.ca),
          cert: readFileSync(options.tls.client.cert),
          key: readFileSync(options.tls.client.key),
        };
  const proc = new ServerProcess('mosquitto', binary, ['-c', join(dir, 'mosquitto.conf')]);
  const up = async (): Promise<void> => {
    proc.start();
    await waitFor('mosquitto to accept a connection', async () => {
      if (!proc.running) throw new Error(`mosquitto exited: ${proc.recentOutput}`);
      const login = users[0] === undefined ? {} : { username: users[0].username, password: users[0].password };
      const client = await mqtt.connectAsync(url, { ...login, ...tls, reconnectPeriod: 0, connectTimeout: 1000 });
      await client.endAsync();
      return true;
    });
  };
  await up();
  return {
    url,
    kill: () => proc.kill(),
    restart: up,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
