import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText, PROCESSOR_ENV_PREFIX, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { detectorPlans } from './detect/registry.js';

test("docs/configuration.md's sample processor config parses, and its detector choices are valid", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
  const match = /Cloud processor \(`processor\.yaml`[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'the README has a processor.yaml sample');
  const r = parseConfigText(ProcessorConfigSchema, match[1]!, 'processor.yaml', {}, PROCESSOR_ENV_PREFIX);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(detectorPlans(r.value.detection)('pressure').name, 'robust-zscore');
});

test("docs/scale-out.md's cluster member config parses", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../docs/scale-out.md', import.meta.url)), 'utf8');
  const match = /```yaml\n(# processor\.yaml of a member[\s\S]*?)```/.exec(readme);
  assert.ok(match, 'the README has a cluster member sample');
  const r = parseConfigText(ProcessorConfigSchema, match[1]!, 'processor.yaml', {}, PROCESSOR_ENV_PREFIX);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.cluster?.replicas, 3);
  const bad = parseConfigText(
    ProcessorConfigSchema,
    'cluster: { member: "cloud.a", renewIntervalMs: 2000 }',
    'processor.yaml',
    {},
    PROCESSOR_ENV_PREFIX,
  );
  assert.ok(!bad.ok);
  assert.match(bad.error.message, /cluster\.member/);
  assert.match(bad.error.message, /cluster\.renewIntervalMs/);
});

test("docs/brokers.md's TLS sample for the processor parses: mqtts and HTTPS with client certificates", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../docs/brokers.md', import.meta.url)), 'utf8');
  const match = /```yaml\n(# processor\.yaml with TLS[\s\S]*?)```/.exec(readme);
  assert.ok(match, 'docs/brokers.md has a TLS sample for the processor');
  const r = parseConfigText(ProcessorConfigSchema, match[1]!, 'processor.yaml', {}, PROCESSOR_ENV_PREFIX);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.broker.type === 'embedded' && r.value.broker.tls?.clientCertificates, 'required');
  assert.equal(r.value.http?.tls?.clientCertificates, 'required');
});
