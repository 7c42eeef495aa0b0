import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliOf } from '../harness/agent-rig.js';
import { TestPki } from '../harness/pki.js';
import { scratchDir } from '../harness/scratch.js';

/** Runs a CLI with a JSON config; its exit status and what it printed. */
function run(pkg: string, dir: string, config: object): { status: number | null; stderr: string } {
  const file = join(dir, `${pkg.split('/')[1]}.json`);
  writeFileSync(file, JSON.stringify(config));
  const r = spawnSync(process.execPath, [cliOf(pkg), '--config', file], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

test('a TLS file that cannot be used stops the start with exit 2, naming the config key and the file, before anything listens', {
  timeout: 60_000,
}, () => {
  const pki = TestPki.create();
  const dir = scratchDir('tls-config');
  const server = pki.issue('localhost', { server: true });
  const other = pki.issue('localhost', { server: true });
  const expired = pki.issue('localhost', { server: true, expired: true });
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  const missing = join(dir, 'missing.pem');
  const agent = (uplink: object): object => ({
    agentId: 'gw-1',
    sources: [{ type: 'file', path: notPem }],
    uplink,
    stateDir: join(dir, 'agent'),
  });
  const cloud = (extra: object): object => ({
    influx: { url: 'http://127.0.0.1:1' },
    stateDir: join(dir, 'cloud'),
    ...extra,
  });
  const cases = [
    {
      what: 'a CA file that is missing',
      pkg: '@tributary/edge-agent',
      config: agent({ type: 'mqtt', url: 'mqtts://127.0.0.1:1', tls: { ca: missing } }),
      expect: `uplink.tls.ca: cannot read ${missing}: ENOENT`,
    },
    {
      what: 'a certificate file that is not PEM',
      pkg: '@tributary/edge-agent',
      config: agent({ type: 'http', url: 'https://127.0.0.1:1', tls: { cert: notPem, key: server.key } }),
      expect: `uplink.tls.cert: ${notPem} holds no PEM certificate`,
    },
    {
      what: 'a key that is not the certificate’s',
      pkg: '@tributary/cloud-processor',
      config: cloud({ broker: { type: 'embedded', port: 0, tls: { cert: server.cert, key: other.key } } }),
      expect: `broker.tls.cert, broker.tls.key: ${server.cert}, ${other.key} cannot be used together`,
    },
    {
      what: 'an expired server certificate',
      pkg: '@tributary/cloud-processor',
      config: cloud({ http: { port: 0, tls: expired } }),
      expect: `http.tls.cert: the certificate in ${expired.cert} (CN=localhost) expired on Jan  2 00:00:00 2020 GMT`,
    },
  ];
  for (const c of cases) {
    const r = run(c.pkg, dir, c.config);
    assert.equal(r.status, 2, `${c.what}: ${r.stderr}`);
    assert.ok(r.stderr.includes(c.expect), `${c.what}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('TLS settings on a plain URL are a config error, not silently ignored', () => {
  const dir = scratchDir('tls-plain');
  const r = run('@tributary/edge-agent', dir, {
    agentId: 'gw-1',
    sources: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1883', tls: { ca: '/etc/ca.pem' } }],
    uplink: { type: 'http', url: 'http://127.0.0.1:8080', tls: { ca: '/etc/ca.pem' } },
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /sources\[0\]\.tls: set for a plain URL \(mqtt:\/\/\): use mqtts:\/\/ or https:\/\/ \(got \{"ca":"\/etc\/ca\.pem"\}\)/,
  );
  assert.match(r.stderr, /uplink\.tls: set for a plain URL \(http:\/\/\)/);
});
