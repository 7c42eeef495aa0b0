import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProcessorConfigSchema } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import { createProcessor } from './modes.js';

/** A logger that keeps every line. */
function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (obj: object, msg?: string) =>
    void lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger = {
    lines,
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: () => logger,
  };
  return logger;
}

test('constructing a processor opens and reads nothing: its state files are read in start()', (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tributary-cloud-ctor-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  writeFileSync(join(stateDir, 'dedupe.json'), '{"not":"dedupe state"}');
  writeFileSync(join(stateDir, 'detection.json.gz'), 'not gzip');
  const log = recording();
  createProcessor({ config: ProcessorConfigSchema.parse({ stateDir, broker: { type: 'embedded', port: 0 } }), log });
  assert.deepEqual(log.lines, [], 'no state file read, so none found unreadable');
});
