import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { configuredAlertSinks, createAlertSink } from './registry.js';

test('alert sinks come from alerts.sinks by type (the log by default), then alerts.webhooks', async () => {
  const byDefault = configuredAlertSinks(ProcessorConfigSchema.parse({}).alerts);
  assert.deepEqual(byDefault, [{ type: 'log' }]);
  const config = ProcessorConfigSchema.parse({
    alerts: { sinks: [{ type: 'webhook', url: 'http://127.0.0.1:9/a' }], webhooks: [{ url: 'http://127.0.0.1:9/b' }] },
  });
  const sinks = configuredAlertSinks(config.alerts).map((c) => createAlertSink(c, silentLogger));
  assert.equal(sinks.length, 2);
  assert.ok(
    sinks.every((s) => s.name.startsWith('webhook')),
    'no log sink when sinks are listed without it',
  );
  for (const s of sinks) await s.stop(0);
});

test('an unknown sink type names the key and the types there are', () => {
  const r = ProcessorConfigSchema.safeParse({ alerts: { sinks: [{ type: 'pager' }] } });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /alerts.*sinks|log|webhook/);
});
