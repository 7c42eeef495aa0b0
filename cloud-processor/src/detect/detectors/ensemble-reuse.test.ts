/**
 * Verdicts read at once (detector.ts, reuseVerdicts: how the ensemble reads its members and
 * Detection its series' detectors) come in one reused object and say exactly what verdicts of
 * their own say, words included; verdicts of their own stay as they were given.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawPoint, reuseVerdicts, type SeriesPoint, type Verdict } from '../detector.js';
import { createDetector, type DetectorName } from '../registry.js';
import { gaussian, prng, sensorWindows } from '../synthetic.js';

const N = 2400;

/** Windows of a daily-cycle sensor with a spike, a noise burst with a spike in it, a step that stays, and a stuck stretch. */
function faulty(): SeriesPoint[] {
  return sensorWindows({
    seed: 11,
    windows: N,
    dailyAmplitude: 3,
    fault: (w, r, x) => {
      if (w === 1500 && r === 2) return x + 6;
      if (w >= 1700 && w < 1712) return x + (r % 2 === 0 ? 2 : -2) + (w === 1705 && r === 4 ? 9 : 0);
      if (w >= 1900 && w < 2000) return x + 4;
      if (w >= 2100 && w < 2200) return 21.5;
      return x;
    },
  });
}

/** Raw rows a minute apart (gathered into the ensemble's raw windows) with a level shift and spikes. */
function rawRows(): SeriesPoint[] {
  const normal = gaussian(prng(5));
  const points: SeriesPoint[] = [];
  for (let i = 0; i < 6000; i++) {
    const x = 50 + normal() + (i >= 4000 && i < 4600 ? 8 : 0) + (i === 3000 || i === 5000 ? 15 : 0);
    points.push(rawPoint(1_700_000_000_000 + i * 60_000, x));
  }
  return points;
}

/** What a verdict says, field by field (a getter's words read too). */
function said(v: Verdict): Record<string, unknown> {
  return {
    score: v.score,
    level: v.level,
    value: v.value,
    surprise: v.surprise,
    hold: v.hold,
    known: v.known,
    reason: v.reason,
  };
}

/** Each point's verdict read at once (reuse on, as Detection reads it) and the object it came in. */
function readAtOnce(name: DetectorName, points: readonly SeriesPoint[]): { said: unknown[]; objects: Set<Verdict> } {
  const d = createDetector(name);
  const out: unknown[] = [];
  const objects = new Set<Verdict>();
  for (const p of points) {
    const was = reuseVerdicts(true);
    try {
      const v = d.update(p);
      objects.add(v);
      out.push(said(v));
    } finally {
      reuseVerdicts(was);
    }
  }
  return { said: out, objects };
}

test('read at once, every detector answers in one reused object, saying exactly what its verdicts of their own say', () => {
  const names: DetectorName[] = [
    'ensemble',
    'robust-zscore',
    'ewma',
    'shift',
    'seasonal',
    'rate-of-change',
    'flatline',
    'missing',
    'volatility',
    'novelty',
    'window-rules',
    'drift',
  ];
  for (const [series, points] of [
    ['windows', faulty()],
    ['raw rows', rawRows()],
  ] as const) {
    for (const name of names) {
      const own = createDetector(name);
      const kept = points.map((p) => own.update(p));
      const reused = readAtOnce(name, points);
      assert.deepEqual(reused.said, kept.map(said), `${name} on ${series}`);
      // One object for every verdict of the series (two while the ensemble waits for the cadence: its own first answer).
      assert.ok(reused.objects.size <= 2, `${name} on ${series}: ${reused.objects.size} objects`);
      // Verdicts of their own are objects of their own, unchanged by later points.
      assert.equal(new Set(kept).size, kept.length, `${name} on ${series}`);
    }
  }
});

test("read at once, the ensemble's words name the member, and a second as sure, as its verdicts of their own do", () => {
  const points = faulty();
  const own = createDetector('ensemble');
  const reasons = points.map((p) => own.update(p)).filter((v) => v.score >= 0.5);
  // The series is worth the check: alarms, one of them with a second member's words.
  assert.ok(reasons.length >= 3, `${reasons.length} alarms`);
  assert.ok(
    reasons.some((v) => v.reason.includes('; also ')),
    reasons.map((v) => v.reason).join(' | '),
  );
  const reused = readAtOnce('ensemble', points).said as Array<{ score: number; reason: string }>;
  assert.deepEqual(
    reused.filter((v) => v.score >= 0.5).map((v) => v.reason),
    reasons.map((v) => v.reason),
  );
});

test('a detector on its own (reuse off, the default) gives each verdict an object of its own that later points leave alone', () => {
  const points = faulty();
  const d = createDetector('ensemble');
  const first = d.update(points[0]!);
  const copy = { ...first };
  for (const p of points.slice(1, 500)) d.update(p);
  assert.deepEqual(first, copy);
});

test('read at once, the verdicts on silence (tick) say exactly what verdicts of their own say', () => {
  // Windows with dropouts of growing length: tick asked every window, whether or not one came.
  const points = sensorWindows({ seed: 3, windows: N, missing: (w) => w > 1200 && w % 150 < (w / 150) % 8 });
  for (const name of ['ensemble', 'missing', 'window-rules'] as const) {
    const own = createDetector(name);
    const reused = createDetector(name);
    const kept: unknown[] = [];
    const read: unknown[] = [];
    let surprised = 0;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      own.update(p);
      reused.update(p);
      const gap = (points[i + 1]?.ts ?? p.ts + 300_000) - p.ts;
      for (let now = p.ts + 300_000; now <= p.ts + gap; now += 300_000) {
        const v = own.tick!(now);
        if ((v.surprise ?? 0) > 0) surprised++;
        kept.push(said(v));
        const was = reuseVerdicts(true);
        try {
          read.push(said(reused.tick!(now)));
        } finally {
          reuseVerdicts(was);
        }
      }
    }
    assert.ok(surprised > 0, `${name}: no silence found`);
    assert.deepEqual(read, kept, name);
  }
});
