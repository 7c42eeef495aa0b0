import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTelemetry, FleetConfigSchema } from '@tributary/firmware-schemas';
import { fleetOptionsFromConfig } from '../fleet-file.js';
import { Fleet } from '../fleet.js';
import { sensorKinds } from '../signals/kinds.js';
import { anomalyKinds, type AnomalyKind } from './kinds.js';
import type { GroundTruth } from './plan.js';

const START = Date.UTC(2025, 2, 3); // a Monday, so CO2 sees office hours
const DAY = 86_400_000;
const WARMUP = 2 * 3_600_000;
const GAP = 30 * 60_000;

/** Readings per series: `device metric` → ts → value. */
type Series = Map<string, Map<number, number>>;

function play(rate: number): { fleet: Fleet; series: Series } {
  const config = FleetConfigSchema.parse({
    devices: 18,
    seed: 'anomalies',
    anomalies: { ratePerSeriesPerDay: rate, warmupMs: WARMUP, gapMs: GAP },
  });
  const fleet = new Fleet(fleetOptionsFromConfig(config, START, 2 * DAY));
  const series: Series = new Map();
  fleet.play((frame) => {
    const r = decodeTelemetry(frame.payload);
    assert.ok(r.ok, `every frame decodes (${frame.payload})`);
    for (const [metric, v] of Object.entries(r.value.values)) {
      const key = `${r.value.device} ${metric}`;
      (series.get(key) ?? series.set(key, new Map()).get(key)!).set(r.value.ts!, v);
    }
  });
  return { fleet, series };
}

const anomalous = play(14);
const clean = play(0);

/** Anomalous and clean readings of the label's series inside [start, end]. */
function inside(l: GroundTruth): { got: number[]; want: number[] } {
  const got = anomalous.series.get(`${l.device} ${l.metric}`) ?? new Map<number, number>();
  const want = clean.series.get(`${l.device} ${l.metric}`)!;
  const out = { got: [] as number[], want: [] as number[] };
  for (const [ts, v] of want) {
    if (ts < l.start || ts > l.end) continue;
    out.want.push(v);
    if (got.has(ts)) out.got.push(got.get(ts)!);
  }
  return out;
}

function groupBySeries(labels: readonly GroundTruth[]): Map<string, GroundTruth[]> {
  const out = new Map<string, GroundTruth[]>();
  for (const l of labels) {
    const key = `${l.device} ${l.metric}`;
    (out.get(key) ?? out.set(key, []).get(key)!).push(l);
  }
  return out;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: readonly number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

/** What "the readings show the anomaly" means, per kind, against the same fleet without anomalies. */
const shows: Record<AnomalyKind, (l: GroundTruth, got: number[], want: number[]) => void> = {
  spike: (l, got, want) => {
    assert.equal(got.length, 1);
    assert.ok(got[0]! - want[0]! >= 0.7 * l.magnitude, `spike of ${l.magnitude} shows: ${want[0]} → ${got[0]}`);
  },
  dip: (l, got, want) => {
    assert.equal(got.length, 1);
    assert.ok(want[0]! - got[0]! >= 0.7 * -l.magnitude, `dip of ${l.magnitude} shows: ${want[0]} → ${got[0]}`);
  },
  'level-shift': (l, got, want) => {
    const shift = mean(got.map((g, i) => g - want[i]!));
    assert.ok(Math.abs(shift - l.magnitude) <= 0.1 * Math.abs(l.magnitude), `mean offset ${shift} ≈ ${l.magnitude}`);
  },
  drift: (l, got, want) => {
    const d = got.map((g, i) => g - want[i]!);
    assert.ok(Math.abs(d[0]!) <= 0.1 * Math.abs(l.magnitude) + 0.05, `starts near 0 (${d[0]})`);
    assert.ok(
      Math.abs(d[d.length - 1]! - l.magnitude) <= 0.1 * Math.abs(l.magnitude),
      `ends near ${l.magnitude} (${d[d.length - 1]})`,
    );
  },
  stuck: (_l, got, want) => {
    assert.ok(
      got.length >= 6 && got.every((g) => g === got[0]),
      `the same value repeated (${got.slice(0, 8).join(', ')})`,
    );
    assert.ok(new Set(want).size > 1, 'while the real signal moved');
  },
  'noise-burst': (l, got, want) => {
    const extra = std(got.map((g, i) => g - want[i]!));
    assert.ok(extra > 0.4 * l.magnitude && extra < 2 * l.magnitude, `extra noise σ ${extra} ≈ ${l.magnitude}`);
  },
  dropout: (_l, got, want) => {
    assert.ok(want.length >= 1, 'the clean device would have sent readings');
    assert.equal(got.length, 0, 'the device sent nothing');
  },
  'out-of-range': (l, got) => {
    const { range } = sensorKinds[l.metric as keyof typeof sensorKinds];
    assert.ok(
      got.length >= 1 && got.every((g) => g === l.magnitude && (g < range.min || g > range.max)),
      `glitch ${got.join(', ')} outside [${range.min}, ${range.max}]`,
    );
  },
};

for (const kind of anomalyKinds) {
  test(`every ${kind} label's interval holds readings that show it`, () => {
    const labels = anomalous.fleet.labels.filter((l) => l.kind === kind);
    assert.ok(labels.length >= 10, `the run injects ${kind} (${labels.length})`);
    for (const l of labels) {
      const { got, want } = inside(l);
      shows[kind](l, got, want);
      if (kind !== 'out-of-range') {
        const { range } = sensorKinds[l.metric as keyof typeof sensorKinds];
        assert.ok(
          got.every((g) => g >= range.min && g <= range.max),
          `${kind} stays physically plausible: ${got.filter((g) => g < range.min || g > range.max).join(', ')}`,
        );
      }
    }
  });
}

test('outside the labels the readings are exactly those of the fleet without anomalies', () => {
  const bySeries = groupBySeries(anomalous.fleet.labels);
  let compared = 0;
  for (const [key, want] of clean.series) {
    const labels = bySeries.get(key) ?? [];
    const got = anomalous.series.get(key)!;
    for (const [ts, v] of want) {
      if (labels.some((l) => ts >= l.start && ts <= l.end)) continue;
      assert.equal(got.get(ts), v, `${key} at ${ts}`);
      compared++;
    }
  }
  assert.ok(compared > 100_000);
});

test('no anomaly in the warm-up, and the anomalies of one series keep their distance', () => {
  const labels = anomalous.fleet.labels;
  assert.ok(labels.every((l) => l.start >= START + WARMUP && l.end < START + 2 * DAY && l.end >= l.start));
  for (const group of groupBySeries(labels).values()) {
    for (let i = 1; i < group.length; i++)
      assert.ok(
        group[i]!.start > group[i - 1]!.end + GAP,
        `${group[i]!.device} ${group[i]!.metric}: ${group[i - 1]!.kind} then ${group[i]!.kind} too close`,
      );
  }
});
