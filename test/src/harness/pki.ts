import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './scratch.js';
import { which } from './which.js';

/** A certificate and its key, as PEM file paths. */
export interface Issued {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** Addresses the certificate is valid for (a server's): 127.0.0.1 and localhost by default for `server`. */
  readonly server?: boolean;
  /** Valid from 2020-01-01 to 2020-01-02: out of date now. */
  readonly expired?: boolean;
}

/** openssl's `ca` command wants a config naming its database: the smallest one that signs anything. */
const CA_CONFIG = `[ ca ]
default_ca = test
[ test ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[ any ]
commonName = supplied
`;

/**
 * A private certificate authority made with `openssl` at run time (Debian's openssl), in a scratch
 * directory: `ca` is its certificate, `issue` signs certificates for servers (127.0.0.1 and
 * localhost) and clients (CN = the agent id), in date or expired. EC P-256 keys: quick to make.
 */
export class TestPki {
  readonly ca: string;
  private serial = 1;

  private constructor(
    readonly dir: string,
    private readonly openssl: string,
    readonly name: string,
  ) {
    this.ca = join(dir, 'ca.pem');
  }

  static create(name = 'Tributary test CA'): TestPki {
    const openssl = which('openssl');
    if (openssl === undefined) throw new Error('openssl was not found: sudo apt-get install -y openssl');
    const pki = new TestPki(scratchDir('pki'), openssl, name);
    writeFileSync(join(pki.dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(pki.dir, 'index.txt'), '');
    writeFileSync(join(pki.dir, 'serial'), '01\n');
    pki.run([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]);
    return pki;
  }

  /** A certificate with CN `cn`, signed by this CA. */
  issue(cn: string, options: IssueOptions = {}): Issued {
    const base = `${cn.replace(/[^A-Za-z0-9_.-]/g, '_')}-${this.serial++}`;
    const san = options.server ? ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'] : [];
    this.run([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `/CN=${cn}`,
      ...san,
    ]);
    // `ca` sets the dates given (x509 -req cannot set a past notAfter in OpenSSL 3.0); an hour back for clock skew.
    const dates = options.expired
      ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z']
      : ['-startdate', utc(Date.now() - 3_600_000), '-days', '1'];
    this.run([
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-in',
      `${base}.csr`,
      '-out',
      `${base}.pem`,
      '-notext',
      ...dates,
    ]);
    return { cert: join(this.dir, `${base}.pem`), key: join(this.dir, `${base}.key`) };
  }

  private run(args: string[]): void {
    execFileSync(this.openssl, args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

/** YYYYMMDDHHMMSSZ, as openssl ca -startdate takes it. */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
