import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText, PROCESSOR_ENV_PREFIX, ProcessorConfigSchema } from '@tributary/firmware-schemas';
import { detectorPlans } from './detect/registry.js';

test("the README's sample processor config parses, and its detector choices are valid", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const match = /Cloud processor \(`processor\.yaml`[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'the README has a processor.yaml sample');
  const r = parseConfigText(ProcessorConfigSchema, match[1]!, 'processor.yaml', {}, PROCESSOR_ENV_PREFIX);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(detectorPlans(r.value.detection)('pressure').name, 'robust-zscore');
});
