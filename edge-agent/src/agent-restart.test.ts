import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentConfigSchema } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';
import { EdgeAgent } from './agent.js';

test('a clean stop saves the windows it flushed while open, and the next start takes them back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'empty.jsonl'), '');
  const config = AgentConfigSchema.parse({
    agentId: 'gw',
    sources: [{ type: 'file', path: join(dir, 'empty.jsonl') }],
    uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1' }, // unreachable: batches stay in the spool
    windows: { lengthMs: 60_000 },
    stateDir: dir,
  });
  const now = Date.now();
  const a = new EdgeAgent({ config, log: silentLogger });
  await a.start();
  for (let i = 0; i < 10; i++) a.pipeline.ingestTelemetry({ device: `d${i}`, ts: now - 1_000, values: { x: i } });
  await a.stop(100);
  assert.ok(existsSync(join(dir, 'open-windows.json')));
  const b = new EdgeAgent({ config, log: silentLogger });
  await b.start();
  assert.equal(b.restoredWindows, 10);
  assert.equal(existsSync(join(dir, 'open-windows.json')), false, 'taken back once');
  await b.stop(100);
});
