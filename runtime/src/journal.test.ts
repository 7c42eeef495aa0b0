import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isJournalStream, journalPriority } from './journal.js';

test('pino levels map to the syslog priorities journalctl -p filters on', () => {
  const cases = [
    { level: 10, priority: 7 }, // trace → debug
    { level: 20, priority: 7 }, // debug
    { level: 30, priority: 6 }, // info
    { level: 40, priority: 4 }, // warn → warning
    { level: 50, priority: 3 }, // error → err
    { level: 60, priority: 2 }, // fatal → crit
  ];
  for (const c of cases) assert.equal(journalPriority(c.level), c.priority, `level ${c.level}`);
});

test('a descriptor is the journal stream only when JOURNAL_STREAM names its device and inode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-journal-'));
  const fd = openSync(join(dir, 'stream'), 'w');
  const other = openSync(join(dir, 'other'), 'w');
  try {
    const s = statSync(join(dir, 'stream'), { bigint: true });
    const env = { JOURNAL_STREAM: `${s.dev}:${s.ino}` };
    assert.equal(isJournalStream(fd, env), true);
    assert.equal(isJournalStream(other, env), false, 'another file under the same variable');
    assert.equal(isJournalStream(fd, {}), false, 'no variable');
    assert.equal(isJournalStream(fd, { JOURNAL_STREAM: 'garbage' }), false);
  } finally {
    closeSync(fd);
    closeSync(other);
  }
});
