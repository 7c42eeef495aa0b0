import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentConfigSchema } from './agent.js';
import { AGENT_ENV_PREFIX, parseConfig, PROCESSOR_ENV_PREFIX } from './parse.js';
import { ProcessorConfigSchema } from './processor.js';

const minimalAgent = {
  agentId: 'gw-01',
  sources: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1883' }],
  uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
};

test('a minimal agent config gets its defaults', () => {
  const r = parseConfig(AgentConfigSchema, minimalAgent);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.windows.lengthMs, 60_000);
  const source = r.value.sources[0];
  assert.equal(source?.type, 'mqtt');
  if (source?.type === 'mqtt') assert.deepEqual(source.topics, ['sensors/+/telemetry']);
  assert.equal(r.value.spool.type, 'disk');
  assert.equal(r.value.spool.type === 'disk' && r.value.spool.fsync, 'per-batch');
});

test('a bad agent config names the key and the value', () => {
  const r = parseConfig(AgentConfigSchema, { ...minimalAgent, windows: { lengthMs: -5, onSeriesLimit: 'sometimes' } });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error.message, /windows\.lengthMs: .*\(got -5\)/);
  assert.match(r.error.message, /windows\.onSeriesLimit: .*\(got "sometimes"\)/);
});

test('window length must be a multiple of the slide', () => {
  const r = parseConfig(AgentConfigSchema, { ...minimalAgent, windows: { lengthMs: 60_000, slideMs: 7_000 } });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /windows\.lengthMs: lengthMs must be a multiple of slideMs/);
});

test('environment overrides are matched to keys without regard to case', () => {
  const env = {
    TRIBUTARY_AGENT_UPLINK__URL: 'mqtt://127.0.0.1:1999',
    TRIBUTARY_AGENT_WINDOWS__MAXSERIES: '42',
    TRIBUTARY_AGENT_SOURCES__0__URL: 'mqtt://127.0.0.1:2000',
    OTHER: 'x',
  };
  const r = parseConfig(AgentConfigSchema, minimalAgent, env, AGENT_ENV_PREFIX);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.uplink.url, 'mqtt://127.0.0.1:1999');
  assert.equal(r.value.windows.maxSeries, 42);
  const source = r.value.sources[0];
  assert.equal(source?.type === 'mqtt' ? source.url : undefined, 'mqtt://127.0.0.1:2000');
});

test('an empty processor config is the embedded-broker default', () => {
  const r = parseConfig(ProcessorConfigSchema, {}, { TRIBUTARY_CLOUD_INFLUX__DATABASE: 'demo' }, PROCESSOR_ENV_PREFIX);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.broker.type, 'embedded');
  assert.equal(r.value.influx.database, 'demo');
});

test('a bad processor config names the key and the value', () => {
  const r = parseConfig(ProcessorConfigSchema, { broker: { type: 'external', url: 'http://x' } });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /broker\.url: must be an MQTT URL.*\(got "http:\/\/x"\)/);
});

test('an unknown key is an error naming it (a typo must not be silently ignored)', () => {
  const r = parseConfig(AgentConfigSchema, {
    ...minimalAgent,
    windows: { lenghtMs: 5000 },
    uplink: { ...minimalAgent.uplink, maxQueuedBatches: 10 },
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error.message, /windows\.lenghtMs: unknown key \(expected one of lengthMs/);
  assert.match(r.error.message, /uplink\.maxQueuedBatches: unknown key/);
});

test('a key of another variant is unknown for the one chosen (a login list on an external broker is not silently dropped)', () => {
  const broker = parseConfig(ProcessorConfigSchema, {
    broker: {
      type: 'external',
      url: 'mqtt://127.0.0.1:1883',
      users: [{ role: 'reader', username: 'r', password: 'password-r' }],
    },
  });
  assert.equal(broker.ok, false);
  if (!broker.ok)
    assert.match(
      broker.error.message,
      /broker\.users: unknown key for type "external" \(expected one of type, url, username, password, tls\)/,
    );
  const gateway = parseConfig(AgentConfigSchema, {
    ...minimalAgent,
    sources: [{ type: 'mqtt-broker', port: 1883, username: 'u', password: 'p' }],
  });
  assert.equal(gateway.ok, false);
  if (!gateway.ok) assert.match(gateway.error.message, /sources\[0\]\.username: unknown key for type "mqtt-broker"/);
  const spool = parseConfig(AgentConfigSchema, { ...minimalAgent, spool: { type: 'memory', fsync: 'interval' } });
  assert.equal(spool.ok, false);
  if (!spool.ok) assert.match(spool.error.message, /spool\.fsync: unknown key for type "memory"/);
  // The keys of the chosen variant still pass.
  const fine = parseConfig(ProcessorConfigSchema, {
    broker: { type: 'external', url: 'mqtt://127.0.0.1:1883', username: 'p', password: 'secret-p' },
  });
  assert.ok(fine.ok, fine.ok ? '' : fine.error.message);
});

test('keys inside records (per-metric settings) are free', () => {
  const r = parseConfig(ProcessorConfigSchema, {
    detection: { metrics: { vibration: { settings: { anything: 1 } } } },
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
});

test('an environment value for a string key stays a string, and a secret is never printed', () => {
  const ok = parseConfig(
    ProcessorConfigSchema,
    {},
    { TRIBUTARY_CLOUD_INFLUX__PASSWORD: '20240917' },
    PROCESSOR_ENV_PREFIX,
  );
  assert.ok(ok.ok, ok.ok ? '' : ok.error.message);
  assert.equal(ok.value.influx.password, '20240917');
  const bad = parseConfig(ProcessorConfigSchema, { influx: { password: 12345678 } });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.match(bad.error.message, /influx\.password: .*\(value hidden\)/);
    assert.doesNotMatch(bad.error.message, /12345678/);
  }
});

test('an environment override of a record key matches the key already there, whatever its case', () => {
  const r = parseConfig(
    ProcessorConfigSchema,
    { detection: { metrics: { temperature: { sensitivity: 1 } } } },
    { TRIBUTARY_CLOUD_DETECTION__METRICS__TEMPERATURE__SENSITIVITY: '2' },
    PROCESSOR_ENV_PREFIX,
  );
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(Object.keys(r.value.detection.metrics), ['temperature']);
  assert.equal(r.value.detection.metrics.temperature?.sensitivity, 2);
});

test('HTTP credentials: agents without a read token, a token used twice, or a short one are named (never printed)', () => {
  const agents = [{ agentId: 'gw-a', token: 'token-of-gw-a-123456' }];
  const cases = [
    { http: { agents }, error: /http\.readToken: required when http\.agents is set without http\.token/ },
    {
      http: { agents, readToken: 'token-of-gw-a-123456' },
      error: /http\.readToken: must differ from the upload tokens/,
    },
    { http: { agents, token: 'token-of-gw-a-123456' }, error: /http\.token: must differ from every agent’s token/ },
    {
      http: {
        agents: [...agents, { agentId: 'gw-b', token: 'token-of-gw-a-123456' }],
        readToken: 'read-token-123456789',
      },
      error: /http\.agents: tokens must be unique/,
    },
    {
      http: { agents: [{ agentId: 'gw-a', token: 'short-secret' }], readToken: 'read-token-123456789' },
      error: /http\.agents\[0\]\.token: Too small/,
    },
  ];
  for (const c of cases) {
    const r = parseConfig(ProcessorConfigSchema, { http: c.http });
    assert.equal(r.ok, false, JSON.stringify(c.http));
    if (r.ok) continue;
    assert.match(r.error.message, c.error);
    assert.doesNotMatch(r.error.message, /token-of-gw-a|short-secret/, 'no token in the message');
  }
  assert.ok(parseConfig(ProcessorConfigSchema, { http: { agents, readToken: 'read-token-123456789' } }).ok);
});

test('dedupe.maxSeqGap may be at most half the window', () => {
  const r = parseConfig(ProcessorConfigSchema, { dedupe: { windowSize: 256, maxSeqGap: 129 } });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /dedupe\.maxSeqGap: must be at most half of dedupe\.windowSize/);
  assert.ok(parseConfig(ProcessorConfigSchema, { dedupe: { windowSize: 256, maxSeqGap: 128 } }).ok);
  assert.ok(parseConfig(ProcessorConfigSchema, { dedupe: { windowSize: 256 } }).ok, 'unset, it is half the window');
});

test('record keys named like Object methods are names like any other; __proto__, which zod would drop, is an error', () => {
  const units = parseConfig(
    ProcessorConfigSchema,
    JSON.parse(
      '{"influx":{"units":{"constructor":"°C","toString":"%"}},"detection":{"metrics":{"constructor":{"sensitivity":1}}}}',
    ),
    { TRIBUTARY_CLOUD_DETECTION__METRICS__CONSTRUCTOR__SENSITIVITY: '2' },
    PROCESSOR_ENV_PREFIX,
  );
  assert.ok(units.ok, units.ok ? '' : units.error.message);
  assert.deepEqual({ ...units.value.influx.units }, { constructor: '°C', toString: '%' });
  assert.equal(
    new Map(Object.entries(units.value.detection.metrics)).get('constructor')?.sensitivity,
    2,
    'an environment override reaches the record key `constructor`',
  );
  const proto = parseConfig(AgentConfigSchema, {
    ...minimalAgent,
    filters: JSON.parse('{"__proto__":[{"type":"range","min":0,"max":1}]}') as object,
  });
  assert.equal(proto.ok, false);
  if (!proto.ok) assert.match(proto.error.message, /filters\.__proto__: not a valid name/);
});
