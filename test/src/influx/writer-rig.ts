import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  createTarget,
  DeadLetterFile,
  InfluxWriter,
  LineBuilder,
  type RefusedPointRecord,
} from '@tributary/cloud-processor';
import { InfluxConfig } from '@tributary/firmware-schemas';
import { silentLogger } from '@tributary/runtime';

/** An InfluxWriter for a real server, with its counters and dead-letter file, stopped after the test. */
export function writerFor(t: TestContext, config: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-influx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const parsed = InfluxConfig.parse({ retry: { initialMs: 20, maxMs: 200 }, blockedRetryMs: 200, ...config });
  const counts = new Map<string, number>();
  const deadLetter = new DeadLetterFile(join(dir, 'dead-letter.jsonl'), parsed.deadLetter.maxBytes);
  const writer = new InfluxWriter({
    target: createTarget(parsed),
    config: parsed,
    deadLetter,
    log: silentLogger,
    count: (name, by = 1) => counts.set(name, (counts.get(name) ?? 0) + by),
  });
  t.after(() => writer.abort());
  const dead = (): RefusedPointRecord[] => {
    try {
      return readFileSync(deadLetter.path, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as RefusedPointRecord);
    } catch {
      return [];
    }
  };
  return { writer, counts, dead, count: (name: string) => counts.get(name) ?? 0 };
}

/** `n` window-like lines of measurement `m` for device `d`, one per second from `t0`. */
export function lines(m: string, d: string, n: number, t0 = 1_700_000_000_000): string[] {
  const b = new LineBuilder();
  return Array.from(
    { length: n },
    (_, i) =>
      b
        .start(m)
        .tag('device', d)
        .int('count', i + 1)
        .float('mean', i / 2)
        .end(t0 + i * 1000)!,
  );
}
