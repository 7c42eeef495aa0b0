import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BehaviourConfig } from '@tributary/firmware-schemas';
import { SimClock } from './clock.js';
import type { Frame } from './device.js';
import { Fleet, type FleetOptions } from './fleet.js';
import { Simulator, SimulatorConfigError } from './simulator.js';
import type { Transport } from './transports/transport.js';

/** An in-memory transport that pushes back every `every` frames, like a full socket. */
class MemoryTransport implements Transport {
  readonly frames: Frame[] = [];
  waits = 0;
  constructor(private readonly every = 0) {}
  send(frame: Frame): void | Promise<void> {
    this.frames.push(frame);
    if (this.every > 0 && this.frames.length % this.every === 0) {
      this.waits++;
      return new Promise((resolve) => setImmediate(resolve));
    }
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

const HOUR = 3_600_000;
const options = (clock: 'synced' | 'none', startMs: number, durationMs: number): FleetOptions => ({
  devices: 10,
  seed: 5,
  startMs,
  durationMs,
  models: [
    { prefix: 'th', share: 1, format: 'json', clock, sensors: [{ kind: 'temperature', samplePeriodMs: 15_000 }] },
  ],
  behaviour: BehaviourConfig.parse({}),
  anomalies: { ratePerDay: 0, warmupMs: 0, gapMs: 0 },
});

test('an accelerated run plays every tick of the span that just ended, never ahead of the wall clock, through backpressure', async () => {
  const durationMs = 2 * HOUR;
  const startMs = Date.now() - durationMs;
  const fleet = new Fleet(options('synced', startMs, durationMs));
  const transport = new MemoryTransport(100);
  const stats = await new Simulator(fleet, new SimClock(startMs, durationMs / 300), transport).run();
  assert.equal(transport.frames.length, 10 * (durationMs / 15_000));
  assert.equal(stats.messages, transport.frames.length);
  assert.equal(stats.readings, transport.frames.length);
  assert.ok(transport.waits > 0);
  assert.ok(transport.frames.every((f) => f.ts < startMs + durationMs && f.ts <= Date.now()));
  const replay: Frame[] = [];
  new Fleet(options('synced', startMs, durationMs)).play((f) => replay.push(f));
  assert.deepEqual(transport.frames, replay, 'the clock does not change what is sent');
});

test('clockless devices are refused in an accelerated run, accepted in real time', () => {
  const startMs = Date.now();
  assert.throws(
    () => new Simulator(new Fleet(options('none', startMs, HOUR)), new SimClock(startMs, 60), new MemoryTransport()),
    SimulatorConfigError,
  );
  assert.doesNotThrow(
    () => new Simulator(new Fleet(options('none', startMs, HOUR)), new SimClock(startMs, 1), new MemoryTransport()),
  );
});

test('a serial device without a serial transport is refused', () => {
  const o = options('synced', Date.now(), HOUR);
  const fleet = new Fleet({ ...o, models: [{ ...o.models![0]!, format: 'serial' }] });
  assert.throws(
    () => new Simulator(fleet, new SimClock(Date.now(), 1), { json: new MemoryTransport() }),
    /serial transport/,
  );
});

test('stop() ends a real-time run promptly', async () => {
  const startMs = Date.now();
  const sim = new Simulator(
    new Fleet(options('synced', startMs, HOUR)),
    new SimClock(startMs, 1),
    new MemoryTransport(),
  );
  const running = sim.run();
  setImmediate(() => sim.stop());
  const t0 = Date.now();
  await running;
  assert.ok(Date.now() - t0 < 1500);
});
