import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { test } from 'node:test';
import { AgentConfigSchema, parseConfigText } from '@tributary/firmware-schemas';
import { mosquittoFiles, passwordLine, type MosquittoSourceConfig } from './config-files.js';

const agent = { username: 'tributary-agent', password: 'agent-secret' };
const sourceOf = (source: object): MosquittoSourceConfig =>
  AgentConfigSchema.parse({
    agentId: 'gw',
    sources: [{ type: 'mosquitto', ...source }],
    uplink: { type: 'mqtt', url: 'mqtt://h:1883' },
  }).sources[0] as MosquittoSourceConfig;

test("a password line is mosquitto_passwd's PBKDF2-SHA512 format", () => {
  const salt = Buffer.alloc(12, 7);
  const line = passwordLine('th-1', 'pass word:1', salt, 101);
  const [user, hashed] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)];
  assert.equal(user, 'th-1');
  const [, kind, iterations, saltB64, hashB64] = hashed.split('$');
  assert.deepEqual([kind, iterations, saltB64], ['7', '101', salt.toString('base64')]);
  assert.equal(hashB64, pbkdf2Sync('pass word:1', salt, 101, 64, 'sha512').toString('base64'));
});

const cases = [
  {
    name: 'without users anyone may publish any telemetry, and only the agent reads',
    source: {},
    acl: [
      'topic write sensors/+/telemetry',
      '',
      'user tributary-agent',
      'topic read sensors/+/telemetry',
      'topic read $SYS/broker/publish/messages/dropped',
    ],
    anonymous: 'allow_anonymous true',
    retain: 'retain_available false',
  },
  {
    name: 'with users each may publish only its devices (by default the one named as the username)',
    source: {
      users: [
        { username: 'th-1', password: 'password-1' },
        { username: 'hub', password: 'password-2', devices: ['a b', 'c'] },
      ],
    },
    acl: [
      '',
      'user tributary-agent',
      'topic read sensors/+/telemetry',
      'topic read $SYS/broker/publish/messages/dropped',
      '',
      'user th-1',
      'topic write sensors/th-1/telemetry',
      '',
      'user hub',
      'topic write sensors/a b/telemetry',
      'topic write sensors/c/telemetry',
    ],
    anonymous: 'allow_anonymous false',
    retain: 'retain_available true',
  },
];
for (const c of cases) {
  test(c.name, () => {
    const files = mosquittoFiles(sourceOf(c.source), '/var/lib/tributary/mosquitto/m', agent, 'tributary');
    assert.deepEqual(files.acl.split('\n').slice(1, -1), c.acl);
    assert.ok(files['mosquitto.conf'].split('\n').includes(c.anonymous));
    assert.ok(files['mosquitto.conf'].split('\n').includes(c.retain));
    assert.equal(
      files.passwd.split('\n').filter((l) => l !== '').length,
      1 + ((c.source as { users?: unknown[] }).users?.length ?? 0),
    );
  });
}

test('the bounds reach the config: packet size, connections, queue, no retained messages when open, saves only on request', () => {
  const lines = mosquittoFiles(
    sourceOf({ port: 1884, maxPayloadBytes: 1000, maxClients: 7, maxQueuedMessages: 500, maxQueuedBytes: 100_000 }),
    '/d',
    agent,
    'u',
  )['mosquitto.conf'].split('\n');
  for (const expected of [
    'listener 1884 0.0.0.0',
    'max_connections 7',
    `max_packet_size ${1000 + 65536}`,
    'max_queued_messages 500',
    'max_queued_bytes 100000',
    'retain_available false',
    'autosave_interval 0',
    'persistence_location /d/',
    'user u',
  ]) {
    assert.ok(lines.includes(expected), `${expected} in\n${lines.join('\n')}`);
  }
});

test('names Mosquitto cannot hold in its files are refused with the key', () => {
  const r = parseConfigText(
    AgentConfigSchema,
    'agentId: gw\nsources: [{ type: mosquitto, users: [{ username: "a b", password: "password-1" }, { username: tributary-agent, password: "password-2" }, { username: c, password: "password-3", devices: [" d"] }] }]\nuplink: { type: mqtt, url: "mqtt://h:1883" }\n',
    'agent.yaml',
    {},
    'TRIBUTARY_AGENT_',
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error.message, /sources\[0\]\.users\[0\]\.username: must not contain whitespace or ":"/);
  assert.match(r.error.message, /sources\[0\]\.users: the username tributary-agent is the agent's own/);
  assert.match(r.error.message, /sources\[0\]\.users\[2\]\.devices\[0\]: must not start or end with a space/);
});
