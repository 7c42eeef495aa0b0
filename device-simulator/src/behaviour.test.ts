import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BehaviourConfig,
  decodeSerialLine,
  decodeTelemetry,
  encodeTelemetry,
  type FirmwareFormat,
  type Telemetry,
} from '@tributary/firmware-schemas';
import type { Frame } from './device.js';
import { Fleet, type FleetOptions } from './fleet.js';
import { sensorKinds } from './signals/kinds.js';

const START = Date.UTC(2025, 4, 1);
const HOUR = 3_600_000;

function fleet(options: {
  format?: FirmwareFormat;
  clock?: 'synced' | 'skewed' | 'none';
  behaviour?: unknown;
  seed?: string;
  devices?: number;
  hours?: number;
}): FleetOptions {
  return {
    devices: options.devices ?? 20,
    seed: options.seed ?? 'behaviour',
    startMs: START,
    durationMs: (options.hours ?? 6) * HOUR,
    models: [
      {
        prefix: 'th',
        share: 1,
        format: options.format ?? 'json',
        clock: options.clock ?? 'synced',
        sensors: [
          { kind: 'temperature', samplePeriodMs: 10_000 },
          { kind: 'humidity', samplePeriodMs: 10_000 },
        ],
      },
    ],
    behaviour: BehaviourConfig.parse(options.behaviour ?? {}),
    anomalies: { ratePerDay: 0, warmupMs: 0, gapMs: 0 },
  };
}

function frames(options: FleetOptions): Frame[] {
  const out: Frame[] = [];
  new Fleet(options).play((f) => out.push(f));
  return out;
}

const decode = (f: Frame) => (f.format === 'json' ? decodeTelemetry(f.payload) : decodeSerialLine(f.payload));

function outOfRange(t: Telemetry): boolean {
  return Object.entries(t.values).some(([m, v]) => {
    const { range } = sensorKinds[m as keyof typeof sensorKinds];
    return v < range.min || v > range.max;
  });
}

test('the same seed gives the same frames and labels; another seed does not', () => {
  const options = {
    ...fleet({ behaviour: { malformedRate: 0.02, duplicateRate: 0.02, seqGapRate: 0.02 } }),
    anomalies: { ratePerDay: 6, mix: { spike: 1, stuck: 1, dropout: 1 }, warmupMs: HOUR, gapMs: HOUR },
  };
  const a = new Fleet(options);
  const b = new Fleet(options);
  const c = new Fleet({ ...options, seed: 'other' });
  const fa: Frame[] = [];
  const fb: Frame[] = [];
  const fc: Frame[] = [];
  a.play((f) => fa.push(f));
  b.play((f) => fb.push(f));
  c.play((f) => fc.push(f));
  assert.ok(fa.length > 10_000 && a.labels.length > 5);
  assert.deepEqual(fb, fa);
  assert.deepEqual(b.labels, a.labels);
  assert.notDeepEqual(
    fc.map((f) => f.payload),
    fa.map((f) => f.payload),
  );
});

test('frames leave in event-time order across the fleet', () => {
  const all = frames(fleet({}));
  for (let i = 1; i < all.length; i++) assert.ok(all[i]!.ts >= all[i - 1]!.ts);
});

test('the JSON written by hand on the hot path is exactly what the contract encoder writes', () => {
  const options = {
    ...fleet({ clock: 'skewed', hours: 2 }),
    models: [...fleet({ clock: 'none' }).models!, ...fleet({ clock: 'skewed' }).models!].map((m, i) => ({
      ...m,
      prefix: `m${i}`,
      share: 1,
    })),
  };
  let n = 0;
  new Fleet({ ...options, devices: 40 }).play((f) => {
    const r = decodeTelemetry(f.payload);
    assert.ok(r.ok);
    assert.equal(f.payload, encodeTelemetry(r.value));
    n++;
  });
  assert.ok(n > 1000);
});

for (const format of ['json', 'serial'] as const) {
  test(`malformed ${format} payloads appear at the configured rate, and each is rejected with its reason`, () => {
    const rate = 0.05;
    const all = frames(fleet({ format, hours: 12, behaviour: { malformedRate: rate } }));
    const reasons = new Map<string, number>();
    let malformed = 0;
    for (const f of all) {
      const r = decode(f);
      const bad = !r.ok || outOfRange(r.value);
      assert.equal(bad, f.role === 'malformed', `${f.role} frame ${JSON.stringify(f.payload)}`);
      if (!bad) continue;
      malformed++;
      const reason = r.ok ? 'out-of-range' : r.error.code;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    const sigma = Math.sqrt(all.length * rate * (1 - rate));
    assert.ok(
      Math.abs(malformed - all.length * rate) < 4 * sigma,
      `${malformed} malformed of ${all.length}, expected about ${Math.round(all.length * rate)}`,
    );
    const expected = format === 'json' ? ['bad_json', 'out-of-range'] : ['checksum', 'framing', 'out-of-range'];
    assert.deepEqual([...reasons.keys()].sort(), expected, `reasons ${JSON.stringify([...reasons])}`);
  });
}

test('duplicates repeat a message with its seq; seq gaps skip numbers; both near their rates', () => {
  const all = frames(fleet({ hours: 12, behaviour: { duplicateRate: 0.03, seqGapRate: 0.04 } }));
  const seqs = new Map<string, number[]>();
  for (const f of all) {
    const r = decodeTelemetry(f.payload);
    assert.ok(r.ok);
    (seqs.get(f.device) ?? seqs.set(f.device, []).get(f.device)!).push(r.value.seq!);
  }
  let dups = 0;
  let gaps = 0;
  let sent = 0;
  for (const list of seqs.values()) {
    for (let i = 1; i < list.length; i++) {
      const step = list[i]! - list[i - 1]!;
      if (step === 0) dups++;
      else {
        sent++;
        gaps += step - 1;
      }
    }
  }
  assert.equal(dups, all.filter((f) => f.role === 'duplicate').length);
  assert.ok(Math.abs(dups / sent - 0.03) < 0.006, `duplicate rate ${dups / sent}`);
  assert.ok(Math.abs(gaps / (sent + gaps) - 0.04) < 0.006, `gap rate ${gaps / (sent + gaps)}`);
});

test('skewed clocks stay within their bounds; clockless devices send no ts', () => {
  for (const f of frames(
    fleet({ clock: 'skewed', behaviour: { clockSkew: { maxOffsetMs: 5000, maxDriftPpm: 100 } } }),
  )) {
    const r = decodeTelemetry(f.payload);
    assert.ok(r.ok);
    assert.ok(Math.abs(r.value.ts! - f.ts) <= 5000 + 6 * HOUR * 100e-6 + 1, `skew ${r.value.ts! - f.ts}`);
  }
  const skews = new Set(
    frames(fleet({ clock: 'skewed', hours: 1 })).map(
      (f) => (decodeTelemetry(f.payload) as { value: Telemetry }).value.ts! - f.ts,
    ),
  );
  assert.ok(skews.size > 20, 'devices differ in skew');
  for (const f of frames(fleet({ clock: 'none', hours: 1 })))
    assert.equal((decodeTelemetry(f.payload) as { value: Telemetry }).value.ts, undefined);
});

test('after an outage a device sends what it kept, in a burst, with the original timestamps', () => {
  const all = frames(
    fleet({
      hours: 24,
      behaviour: { reconnects: { ratePerDevicePerDay: 4, meanOutageMs: 10 * 60_000, maxBufferedMessages: 30 } },
    }),
  );
  const bursts = all.filter((f) => f.role === 'burst');
  assert.ok(bursts.length > 100, `${bursts.length} burst frames`);
  // Sent at the reconnect tick, so other devices' newer readings went before them: they arrive late.
  let newest = -Infinity;
  for (const f of all) {
    if (f.role === 'burst') {
      const r = decodeTelemetry(f.payload);
      assert.ok(r.ok && r.value.ts === f.ts, 'the original timestamp');
      assert.ok(newest > f.ts, 'sent after newer readings');
    }
    newest = Math.max(newest, f.ts);
  }
});

test("a frame's outOfRange count is exactly its readings outside their range, glitches and malformed values together", () => {
  const options = {
    ...fleet({ hours: 24, behaviour: { malformedRate: 0.2, malformedMix: { 'out-of-range': 1 } } }),
    anomalies: { ratePerDay: 48, mix: { 'out-of-range': 1 }, warmupMs: 0, gapMs: 0 },
  };
  let both = 0;
  for (const f of frames(options)) {
    const r = decodeTelemetry(f.payload);
    assert.ok(r.ok);
    const outside = Object.entries(r.value.values).filter(([m, v]) => {
      const { range } = sensorKinds[m as keyof typeof sensorKinds];
      return v < range.min || v > range.max;
    }).length;
    assert.equal(f.outOfRange, outside, f.payload);
    if (outside > 1) both++;
  }
  assert.ok(both > 0, 'some frames carry a glitch and a malformed value at once');
});
