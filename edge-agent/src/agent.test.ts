import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { AgentConfigSchema, type AgentConfigInput } from '@tributary/firmware-schemas';
import type { Logger } from '@tributary/runtime';
import { EdgeAgent } from './agent.js';

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

/** Every file below `dir` with its bytes (base64), for telling whether anything was touched. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path).toString('base64');
    }
  };
  walk(dir);
  return out;
}

const agentConfig = (stateDir: string, spool: AgentConfigInput['spool']) =>
  AgentConfigSchema.parse({
    agentId: 'gw',
    sources: [{ type: 'file', path: '/dev/null' }],
    uplink: { type: 'mqtt', url: 'mqtt://127.0.0.1:1' }, // unreachable: nothing is acked
    spool,
    stateDir,
  });

test('constructing an agent creates nothing: a state directory that does not exist is made in start()', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-agent-ctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stateDir = join(dir, 'state');
  const log = recording();
  const agent = new EdgeAgent({ config: agentConfig(stateDir, { type: 'disk' }), log });
  assert.equal(existsSync(stateDir), false, 'nothing created before start');
  assert.equal(log.lines.length, 0, log.lines.join('\n'));
  await agent.start();
  await agent.stop(50);
  assert.deepEqual(
    readdirSync(stateDir).sort(),
    ['spool', 'wal'],
    'start makes the spool and the write-ahead log there',
  );
});

test('constructing an agent reads nothing: a torn spool and write-ahead log are found (and cut) in start()', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tributary-agent-ctor-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  mkdirSync(join(stateDir, 'spool'));
  mkdirSync(join(stateDir, 'wal'));
  writeFileSync(join(stateDir, 'spool', '0000000000000000.seg'), 'not a spool record');
  writeFileSync(join(stateDir, 'wal', '0000000000000000.wal'), 'not a log record');
  writeFileSync(join(stateDir, 'open-windows.json'), '[]');
  const before = tree(stateDir);
  const log = recording();
  const agent = new EdgeAgent({ config: agentConfig(stateDir, { type: 'disk' }), log });
  assert.deepEqual(tree(stateDir), before, 'no file read away, cut or written');
  assert.equal(log.lines.length, 0, `no damage found, so nothing was read: ${log.lines.join('\n')}`);
  await agent.start();
  await agent.stop(50);
  assert.ok(
    log.lines.some((l) => l.startsWith('warn spool: skipped damaged records')),
    log.lines.join('\n'),
  );
  assert.ok(
    log.lines.some((l) => l.startsWith('warn write-ahead log: cut off damaged records')),
    log.lines.join('\n'),
  );
  assert.equal(agent.counters.get('spool_torn_records'), 1);
  assert.equal(agent.counters.get('wal_torn_records'), 1);
});

test('constructing an agent with a memory spool reads nothing: a seq file it cannot read fails start(), not the constructor', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tributary-agent-ctor-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  mkdirSync(join(stateDir, 'seq.json')); // a directory: reading it fails with EISDIR
  const agent = new EdgeAgent({ config: agentConfig(stateDir, { type: 'memory' }), log: recording() });
  await assert.rejects(agent.start(), /cannot read seq state .*seq\.json/);
});
