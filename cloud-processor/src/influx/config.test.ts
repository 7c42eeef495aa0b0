import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText, PROCESSOR_ENV_PREFIX, ProcessorConfigSchema } from '@tributary/firmware-schemas';

const parse = (text: string, env: Record<string, string> = {}) =>
  parseConfigText(ProcessorConfigSchema, text, 'processor.yaml', env, PROCESSOR_ENV_PREFIX);

test("docs/configuration.md's sample processor config parses, writer settings included", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url)), 'utf8');
  const match = /Cloud processor \(`processor\.yaml`[^\n]*\n\s*```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'the README has a processor.yaml sample');
  const r = parse(match[1]!);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(
    [r.value.influx.api, r.value.influx.batch.maxLines, r.value.influx.gzip, r.value.influx.units.temperature],
    ['v1', 5000, 'auto', '°C'],
  );
});

test('v2 needs org, bucket and token, and says which are missing', () => {
  const r = parse('influx: { api: v2, url: "https://eu-central-1-1.aws.cloud2.influxdata.com", org: acme }');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.error.message, /influx\.bucket: bucket is required when api is v2/);
  assert.match(r.error.message, /influx\.token: token is required when api is v2/);
});

test('the token can come from the environment, as every key can', () => {
  const r = parse('influx: { api: v2, org: acme, bucket: sensors }', { TRIBUTARY_CLOUD_INFLUX__TOKEN: 's3cr3t' });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.influx.token, 's3cr3t');
});

test('a retention policy duration must be an InfluxQL duration', () => {
  const r = parse('influx: { retentionPolicy: { name: short, duration: 90 days } }');
  assert.equal(r.ok, false);
  if (!r.ok)
    assert.match(
      r.error.message,
      /influx\.retentionPolicy\.duration: must be an InfluxQL duration .*\(got "90 days"\)/,
    );
  const ok = parse('influx: { retentionPolicy: { name: short, duration: 90d, shardDuration: 1d } }');
  assert.ok(ok.ok && ok.value.influx.retentionPolicy?.makeDefault === true);
});
