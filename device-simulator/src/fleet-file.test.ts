import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fleetOptionsFromConfig, loadFleetFile } from './fleet-file.js';
import { Fleet } from './fleet.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-fleet-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

test('no file and no flags is the default fleet: three models, every anomaly kind, no misbehaviour', () => {
  const r = loadFleetFile(undefined, {});
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(
    r.value.models.map((m) => m.prefix),
    ['th', 'env', 'mach'],
  );
  assert.equal(Object.keys(r.value.anomalies.mix).length, 8);
  assert.equal(r.value.behaviour.malformedRate, 0);
});

test("the README's sample fleet file parses and builds", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const yaml = /```yaml\n# fleet\.yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(yaml, 'device-simulator/README.md has a ```yaml block starting with "# fleet.yaml"');
  const r = loadFleetFile(file('fleet.yaml', yaml), {});
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const fleet = new Fleet(fleetOptionsFromConfig(r.value, Date.UTC(2025, 0, 1), 86_400_000));
  assert.equal(fleet.devices.length, r.value.devices);
  assert.ok(fleet.devices.some((d) => d.spec.format === 'serial'));
});

test('flags override the file; a mix from a flag replaces the whole mix', () => {
  const path = file('f.json', JSON.stringify({ devices: 7, anomalies: { mix: { spike: 1, dip: 1 }, warmupMs: 0 } }));
  const r = loadFleetFile(path, { devices: 3, anomalies: { mix: { drift: 2 } } });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.devices, 3);
  assert.deepEqual(r.value.anomalies.mix, { drift: 2 });
  assert.equal(r.value.anomalies.warmupMs, 0, 'keys the flags leave alone come from the file');
});

const bad = [
  {
    name: 'a negative rate',
    text: 'behaviour:\n  malformedRate: -0.1\n',
    message: /behaviour\.malformedRate: .*\(got -0\.1\)/,
  },
  {
    name: 'an unknown sensor kind',
    text: 'models:\n  - prefix: x\n    sensors: [{ kind: radon }]\n',
    message: /models\[0\]\.sensors\[0\]\.kind/,
  },
  {
    name: 'a sensor kind twice',
    text: 'models:\n  - prefix: x\n    sensors: [{ kind: co2 }, { kind: co2 }]\n',
    message: /a sensor kind appears twice/,
  },
  { name: 'an unknown anomaly kind', text: 'anomalies:\n  mix: { meteor: 1 }\n', message: /anomalies\.mix/ },
  { name: 'not YAML', text: 'devices: [1,\n', message: /is not valid YAML/ },
];
for (const c of bad) {
  test(`a fleet file with ${c.name} is refused, naming the key and value`, () => {
    const r = loadFleetFile(file('bad.yaml', c.text), {});
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, c.message);
  });
}

test('environment overrides reach the fleet', () => {
  const r = loadFleetFile(
    undefined,
    {},
    { TRIBUTARY_SIM_DEVICES: '12', TRIBUTARY_SIM_BEHAVIOUR__DUPLICATERATE: '0.5' },
  );
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.value.devices, 12);
  assert.equal(r.value.behaviour.duplicateRate, 0.5);
});
