import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProcessorConfig } from './config.js';

const file = (yaml: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'tributary-config-')), 'processor.yaml');
  writeFileSync(path, yaml);
  return path;
};

test('detection: { detector: robust-zscore } is a working config', () => {
  const r = loadProcessorConfig(file('detection: { detector: robust-zscore }\n'), {});
  assert.ok(r.ok, r.ok ? '' : r.error.message);
});

const bad = [
  {
    name: 'an unknown detector',
    yaml: 'detection: { detector: magic }\n',
    key: /detection\.detector: unknown detector "magic"/,
  },
  {
    name: 'a misspelt setting of a metric',
    yaml: 'detection: { metrics: { co2: { detector: robust-zscore, settings: { historyMsec: 96 } } } }\n',
    key: /detection\.metrics\.co2\.settings\.historyMsec/,
  },
  {
    name: 'a bad value of a setting',
    yaml: 'detection: { settings: { refractoryPoints: -1 } }\n',
    key: /detection\.settings\.refractoryPoints/,
  },
];
for (const c of bad) {
  test(`a config with ${c.name} is a config error naming the key`, () => {
    const r = loadProcessorConfig(file(c.yaml), {});
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, c.key);
  });
}
