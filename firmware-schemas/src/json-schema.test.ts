import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { contracts, jsonSchemaOf } from './json-schema.js';

for (const contract of contracts) {
  test(`the committed JSON Schema of ${contract.name} is what the zod schema gives (run npm run schemas)`, () => {
    const file = fileURLToPath(new URL(`../json-schema/${contract.name}.schema.json`, import.meta.url));
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), JSON.parse(JSON.stringify(jsonSchemaOf(contract))));
  });
}
