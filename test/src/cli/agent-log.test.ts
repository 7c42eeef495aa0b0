import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../harness/ports.js';
import { scratchDir } from '../harness/scratch.js';

const cli = fileURLToPath(new URL('./cli.js', import.meta.resolve('@tributary/edge-agent')));

test('each line of the agent CLI names the agent once', { timeout: 30_000 }, async (t) => {
  const dir = scratchDir('agent-log');
  writeFileSync(join(dir, 'readings.txt'), '');
  const config = join(dir, 'agent.json');
  // Nothing listens on the uplink's port: the agent starts and spools, which is all this needs.
  writeFileSync(
    config,
    JSON.stringify({
      agentId: 'gw-log',
      sources: [{ type: 'file', path: join(dir, 'readings.txt') }],
      uplink: { type: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
    }),
  );
  const child = spawn(process.execPath, [cli, '--config', config, '--state-dir', join(dir, 'state')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"agent started"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code} before starting: ${out}`)));
  });
  const lines = out.trim().split('\n');
  assert.ok(lines.length > 0);
  for (const line of lines) assert.equal(line.match(/"agent":/g)?.length, 1, line);
});
