import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloudHealthReasons, type CloudHealthInputs } from './health.js';

const healthy: CloudHealthInputs = {
  influx: { state: 'ok' },
  broker: { connected: true, downSinceMs: undefined },
  backlogFullSinceMs: undefined,
  maxStallMs: 10_000,
};
const now = 1_000_000;

const cases: Array<{ name: string; inputs: Partial<CloudHealthInputs>; reasons: RegExp[] }> = [
  { name: 'all well', inputs: {}, reasons: [] },
  {
    name: 'InfluxDB refuses the credentials',
    inputs: { influx: { state: 'blocked', reason: 'HTTP 401 unauthorized', status: 401, sinceMs: now - 1 } },
    reasons: [/InfluxDB refuses the writes \(HTTP 401 unauthorized\)/],
  },
  {
    name: 'InfluxDB failing briefly is waited out',
    inputs: { influx: { state: 'retrying', reason: 'ECONNREFUSED', sinceMs: now - 5_000 } },
    reasons: [],
  },
  {
    name: 'InfluxDB failing past maxStallMs',
    inputs: { influx: { state: 'retrying', reason: 'ECONNREFUSED', sinceMs: now - 30_000 } },
    reasons: [/InfluxDB writes failing for 30 s \(ECONNREFUSED\)/],
  },
  {
    name: 'broker lost past maxStallMs',
    inputs: { broker: { connected: false, downSinceMs: now - 11_000 } },
    reasons: [/MQTT broker for 11 s/],
  },
  { name: 'broker lost a moment ago', inputs: { broker: { connected: false, downSinceMs: now - 500 } }, reasons: [] },
  {
    name: 'every reason at once, each named',
    inputs: {
      influx: { state: 'blocked', reason: 'database missing', sinceMs: now },
      broker: { connected: false, downSinceMs: now - 60_000 },
      backlogFullSinceMs: now - 20_000,
    },
    reasons: [/database missing/, /MQTT broker for 60 s/, /backlog full for 20 s/],
  },
];

for (const c of cases) {
  test(`/health reasons: ${c.name}`, () => {
    const reasons = cloudHealthReasons({ ...healthy, ...c.inputs }, now);
    assert.equal(reasons.length, c.reasons.length, reasons.join('; '));
    c.reasons.forEach((r, i) => assert.match(reasons[i]!, r));
  });
}
