#!/usr/bin/env node
/** Writes one JSON Schema file per contract into the directory given as the first argument. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contracts, jsonSchemaOf } from '../json-schema.js';

const dir = process.argv[2] ?? 'json-schema';
mkdirSync(dir, { recursive: true });
for (const contract of contracts) {
  writeFileSync(join(dir, `${contract.name}.schema.json`), `${JSON.stringify(jsonSchemaOf(contract), null, 2)}\n`);
}
