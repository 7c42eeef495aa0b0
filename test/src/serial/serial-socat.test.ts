import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { test } from 'node:test';
import {
  FilterChains,
  IngestPipeline,
  SerialSource,
  WindowEngine,
  agentCounterHelp,
  listSerialPorts,
  type AgentCounter,
} from '@tributary/edge-agent';
import { SerialSourceConfig, encodeSerialLine, type WindowResult } from '@tributary/firmware-schemas';
import { Counters, ProblemReport, silentLogger, systemClock } from '@tributary/runtime';
import { startPtyPair } from '../harness/socat.js';
import { waitFor } from '../harness/wait.js';

/** Writes to the device end of the pair, in the pieces given (each piece one write(2)). */
function writePieces(path: string, pieces: readonly string[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const p of pieces) writeSync(fd, Buffer.from(p, 'latin1'));
  } finally {
    closeSync(fd);
  }
}

function line(device: string, seq: number, value: number): string {
  return encodeSerialLine({ device, seq, ts: Date.now(), values: { temperature: value, humidity: 40 } });
}

test('serial through a real socat pty pair: noise, bad checksums and split writes are survived; the port is reopened after it vanishes', {
  timeout: 30_000,
}, async (t) => {
  const pty = await startPtyPair();
  t.after(() => pty.stop());
  const counters = new Counters<AgentCounter>(agentCounterHelp);
  const windows: WindowResult[] = [];
  const engine = new WindowEngine(
    {
      lengthMs: 60_000,
      slideMs: 60_000,
      allowedLatenessMs: 60_000,
      idleAfterMs: 65_000,
      maxSeries: 100,
      onSeriesLimit: 'reject-new',
      lateReadings: 'drop',
      lateHorizonMs: 0,
      maxPanesPerSeries: 8,
      sketchK: 16,
    },
    { window: (w) => windows.push(w), evicted: () => undefined, outOfRangeOnly: () => undefined },
  );
  const pipeline = new IngestPipeline({
    filters: new FilterChains({}),
    windows: engine,
    clock: systemClock,
    maxFutureMs: 60_000,
    counters,
    problems: new ProblemReport(),
  });
  const config = SerialSourceConfig.parse({
    type: 'serial',
    path: pty.agentEnd,
    baudRate: 115_200,
    reopen: { initialMs: 20, maxMs: 200 },
  });
  let lost = 0;
  const source = new SerialSource(config, pipeline, silentLogger, () => lost++);
  await source.start();
  t.after(() => source.stop());
  await waitFor('the port to open', () => source.isOpen);

  const good1 = line('th-1', 1, 21.5);
  const good2 = line('th-2', 1, 22.5);
  const bad = line('th-1', 2, 23).replace('23', '24');
  const good3 = line('th-1', 3, 24.5);
  // Noise, a line split across writes, a bad checksum, a truncated line, an over-long line.
  writePieces(pty.deviceEnd, [
    '\x00\xff~~',
    good1.slice(0, 7),
    good1.slice(7, 20),
    good1.slice(20),
    bad,
    good2.slice(0, 15),
    `${good2}$TRB,${'x'.repeat(600)}\r\n`,
    good3,
  ]);
  await waitFor(
    'three good lines',
    () => counters.get('readings_accepted') === 6 && counters.get('messages_invalid') >= 4,
  );
  assert.equal(counters.get('invalid_checksum'), 1);
  assert.ok(
    counters.get('invalid_framing') >= 3,
    `garbage, truncated and over-long lines are framing errors (${counters.get('invalid_framing')})`,
  );

  // Unplug: socat dies and both ends vanish. The source logs once and keeps trying.
  await pty.kill();
  await waitFor('the loss to be noticed', () => lost === 1);
  assert.equal(source.isOpen, false);
  // Plug in again: same paths, a new pty. The source reopens by itself.
  await pty.restart();
  await waitFor('the port to be reopened', () => source.opens === 2 && source.isOpen, 10_000);
  assert.equal(lost, 1, 'an outage is counted once, however many retries it takes');
  writePieces(pty.deviceEnd, [line('th-1', 4, 25).slice(0, 10), line('th-1', 4, 25).slice(10)]);
  await waitFor('reading after the reconnect', () => counters.get('readings_accepted') === 8);
  engine.flush();
  assert.equal(
    windows.reduce((n, w) => n + w.count, 0),
    8,
  );
});

test('listing serial ports without udevadm fails gracefully', async () => {
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
  const ports = await listSerialPorts(log, () => Promise.reject(new Error('spawn udevadm ENOENT')));
  assert.deepEqual(ports, []);
  assert.equal(warnings.length, 1);
  // The real call must not throw either, whether or not udevadm is installed here.
  assert.ok(Array.isArray(await listSerialPorts(silentLogger)));
});
