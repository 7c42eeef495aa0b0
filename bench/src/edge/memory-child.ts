/**
 * One memory measurement in a fresh process (run with --expose-gc):
 *   memory-child.js series N         — N active series (N/2 devices × 2 metrics), each with an open window
 *   memory-child.js overload S       — twice S messages/s offered to an intake limited to S, for 20 simulated minutes
 * Prints one line of JSON.
 */
import { makeCore, measureMemory, payload, T0 } from './core.js';

const [mode, arg] = process.argv.slice(2);
const n = Number(arg);

if (mode === 'series') {
  const before = measureMemory();
  const core = makeCore({ maxSeries: n, statefulFilters: true });
  const devices = n / 2;
  // Every device reports once a second for 90 s of event time: the first minute's windows are
  // emitted, the second minute's are open with 30 readings each (sketches included).
  for (let s = 0; s < 90; s++) {
    for (let d = 0; d < devices; d++) {
      const ts = T0 + s * 1000 + Math.floor((d / devices) * 1000);
      core.clock.set(ts);
      core.pipeline.ingestJson(payload(d, s, ts), 4096, 'bench');
    }
  }
  const after = measureMemory();
  process.stdout.write(
    `${JSON.stringify({ series: n, active: core.windows.activeSeries, accepted: core.counters.get('readings_accepted'), rssBefore: before.rss, rssAfter: after.rss, heapBefore: before.heapUsed, heapAfter: after.heapUsed })}\n`,
  );
} else if (mode === 'overload') {
  const sustainable = n;
  const offered = 2 * sustainable;
  const devices = 5_000;
  const minutes = 20;
  // Devices without a clock (arrival time is event time), eight value sets in turn; built once.
  // Set k shifts the device order by k, so the messages the intake admits (every other one) are
  // not always the same devices'.
  const sets = Array.from({ length: 8 }, (_, k) =>
    Array.from({ length: offered }, (_, i) =>
      Buffer.from(
        `{"device":"th-${String((i + k) % devices).padStart(5, '0')}","values":{"temperature":${20 + ((i + k) % 50) / 10},"humidity":${40 + ((i * 3 + k) % 200) / 10}}}`,
      ),
    ),
  );
  const core = makeCore({ maxSeries: 20_000, maxMessagesPerS: sustainable, statefulFilters: true });
  const samples: { minute: number; rss: number; heapUsed: number }[] = [];
  const started = Date.now();
  for (let s = 0; s < minutes * 60; s++) {
    const set = sets[s % sets.length]!;
    for (let i = 0; i < offered; i++) {
      core.clock.set(T0 + s * 1000 + (i * 1000) / offered);
      core.pipeline.ingestJson(set[i]!, 4096, 'bench');
    }
    if ((s + 1) % 120 === 0) samples.push({ minute: (s + 1) / 60, ...measureMemory() });
  }
  const c = core.counters;
  process.stdout.write(
    `${JSON.stringify({
      sustainable,
      offered,
      wallSeconds: (Date.now() - started) / 1000,
      received: c.get('messages_received'),
      shed: c.get('messages_shed'),
      accepted: c.get('readings_accepted'),
      active: core.windows.activeSeries,
      windows: core.out.windows,
      batches: core.out.batches,
      samples,
    })}\n`,
  );
} else {
  process.stderr.write('usage: memory-child.js series N | overload S\n');
  process.exit(2);
}
