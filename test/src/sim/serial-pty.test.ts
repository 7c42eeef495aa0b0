import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BehaviourConfig, decodeSerialLine } from '@tributary/firmware-schemas';
import { Fleet, SimClock, Simulator, transportRegistry } from '@tributary/device-simulator';
import { ReadlineParser, SerialPort } from 'serialport';
import { waitFor } from '../harness/wait.js';

test('serial lines through a socat pty the simulator makes and removes, paced at the baud rate', {
  timeout: 60_000,
}, async (t) => {
  const baudRate = 38_400;
  const durationMs = 2 * 3_600_000;
  const startMs = Date.now() - durationMs;
  const fleet = new Fleet({
    devices: 4,
    seed: 'serial',
    startMs,
    durationMs,
    models: [
      {
        prefix: 'mach',
        share: 1,
        format: 'serial',
        clock: 'synced',
        sensors: [
          { kind: 'vibration', samplePeriodMs: 120_000 },
          { kind: 'current', samplePeriodMs: 120_000 },
        ],
      },
    ],
    behaviour: BehaviourConfig.parse({ malformedRate: 0.05, malformedMix: { 'bad-checksum': 1 } }),
    anomalies: { ratePerDay: 0, warmupMs: 0, gapMs: 0 },
  });
  const opened = await transportRegistry.pty({ devices: fleet.devices.map((d) => d.id), baudRate });
  let closed = false;
  t.after(() => (closed ? undefined : opened.close()));
  const readerEnd = /pseudo-terminal (\S+)/.exec(opened.description)![1]!;
  const reader = new SerialPort({ path: readerEnd, baudRate });
  t.after(() => new Promise<void>((resolve) => (reader.isOpen ? reader.close(() => resolve()) : resolve())));
  const lines: string[] = [];
  reader.pipe(new ReadlineParser({ delimiter: '\r\n' })).on('data', (line: string) => lines.push(line));
  await new Promise<void>((resolve, reject) => reader.once('open', resolve).once('error', reject));

  const started = performance.now();
  const stats = await new Simulator(fleet, new SimClock(startMs, durationMs / 100), opened.transport).run();
  await waitFor(`all ${stats.messages} lines at the reader`, () => lines.length >= stats.messages, 20_000);
  const elapsedS = (performance.now() - started) / 1000;
  assert.equal(lines.length, stats.messages);
  const results = lines.map((l) => decodeSerialLine(l));
  assert.equal(
    results.filter((r) => !r.ok && r.error.code === 'checksum').length,
    stats.malformed,
    'the corrupted lines fail their checksum, and only they do',
  );
  assert.equal(
    results.filter((r) => r.ok).reduce((n, r) => n + (r.ok ? Object.keys(r.value.values).length : 0), 0),
    stats.readings,
  );
  // 8N1: 10 bits per byte. The PTY has no line speed; the transport's pacing must give it one.
  const minimumS = (stats.bytes * 10) / baudRate;
  assert.ok(
    elapsedS >= 0.9 * minimumS,
    `${stats.bytes} bytes took ${elapsedS.toFixed(2)} s, the line needs ${minimumS.toFixed(2)} s`,
  );

  await opened.close();
  closed = true;
  await waitFor('socat to remove the pty', async () => {
    const { existsSync } = await import('node:fs');
    return !existsSync(readerEnd);
  });
});
