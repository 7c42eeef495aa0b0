import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentConfigSchema, parseConfigText } from '@tributary/firmware-schemas';

test("docs/configuration.md's sample agent config parses", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
  const match = /Edge agent \(`agent\.yaml`\):\s*```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'the README has an agent.yaml sample');
  const r = parseConfigText(AgentConfigSchema, match[1]!, 'agent.yaml', {}, 'TRIBUTARY_AGENT_');
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(
    r.value.sources.map((s) => s.type),
    ['mqtt', 'mqtt-broker', 'mosquitto', 'serial', 'file'],
  );
});

test('a bad filter config names the key and the value', () => {
  const r = parseConfigText(
    AgentConfigSchema,
    'agentId: gw\nsources: [{ type: serial, path: /dev/ttyUSB0, baudRate: -3 }]\nfilters: { t: [{ type: spike, windowSize: 99, maxDeviation: 1 }] }\nuplink: { type: mqtt, url: "mqtt://h:1883" }\n',
    'agent.yaml',
    {},
    'TRIBUTARY_AGENT_',
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error.message, /sources\[0\]\.baudRate: .*\(got -3\)/);
  assert.match(r.error.message, /filters\.t\[0\]\.windowSize: .*\(got 99\)/);
});

test('maxPanesPerSeries must hold a window plus the lateness', () => {
  const r = parseConfigText(
    AgentConfigSchema,
    'agentId: gw\nsources: [{ type: file, path: "-" }]\nwindows: { lengthMs: 60000, slideMs: 1000, maxPanesPerSeries: 10 }\nuplink: { type: mqtt, url: "mqtt://h:1883" }\n',
    'agent.yaml',
    {},
    'TRIBUTARY_AGENT_',
  );
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /windows\.maxPanesPerSeries: maxPanesPerSeries is too small/);
});

test("docs/brokers.md's TLS sample for an agent parses: a private CA and the agent's certificate on its MQTT source and uplink", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../docs/brokers.md', import.meta.url)), 'utf8');
  const match = /```yaml\n(# agent\.yaml of gw-01 with TLS[\s\S]*?)```/.exec(readme);
  assert.ok(match, 'docs/brokers.md has a TLS sample for the agent');
  const r = parseConfigText(AgentConfigSchema, match[1]!, 'agent.yaml', {}, 'TRIBUTARY_AGENT_');
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.uplink.tls?.cert, '/etc/tributary/gw-01.pem');
});
