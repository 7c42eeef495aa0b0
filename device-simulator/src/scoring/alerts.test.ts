import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GroundTruth } from '@tributary/firmware-schemas';
import { formatScore, scoreAlerts, type ScoredAlert } from './alerts.js';

const MIN = 60_000;
const label = (
  device: string,
  metric: string,
  kind: GroundTruth['kind'],
  startMin: number,
  endMin: number,
): GroundTruth => ({ device, metric, kind, start: startMin * MIN, end: endMin * MIN, magnitude: 1 });
const alert = (device: string, metric: string, atMin: number): ScoredAlert => ({
  device,
  metric,
  openedAt: atMin * MIN,
});

test('the scorer on a hand-made case: precision, recall, F1 and delays per kind', () => {
  const labels = [
    label('a', 'temperature', 'spike', 100, 100), // found 3 min late
    label('a', 'temperature', 'level-shift', 300, 360), // found twice: at 302 and 310
    label('b', 'humidity', 'spike', 100, 100), // missed: the alert is on another metric
    label('c', 'co2', 'level-shift', 500, 520), // found 4 min early (within earlyMs)
  ];
  const alerts = [
    alert('a', 'temperature', 103),
    alert('a', 'temperature', 302),
    alert('a', 'temperature', 310),
    alert('b', 'temperature', 100), // false: b has no temperature label
    alert('c', 'co2', 496),
    alert('c', 'co2', 700), // false: long after the label (late tolerance is 10 min)
  ];
  const s = scoreAlerts(labels, alerts, { earlyMs: 5 * MIN, lateMs: 10 * MIN });
  assert.equal(s.labels, 4);
  assert.equal(s.detected, 3);
  assert.equal(s.truePositiveAlerts, 4);
  assert.equal(s.falsePositiveAlerts, 2);
  assert.equal(s.precision, 4 / 6);
  assert.equal(s.recall, 3 / 4);
  assert.ok(Math.abs(s.f1 - (2 * (4 / 6) * (3 / 4)) / (4 / 6 + 3 / 4)) < 1e-12);
  const spike = s.byKind.spike!;
  assert.deepEqual([spike.labels, spike.detected, spike.recall], [2, 1, 0.5]);
  assert.equal(spike.medianDelayMs, 3 * MIN);
  // 1 of the 4 true alerts is a spike's, so spikes carry 1/4 of the 2 false ones: 1 / (1 + 0.5).
  assert.ok(Math.abs(spike.precision - 1 / 1.5) < 1e-12);
  const shift = s.byKind['level-shift']!;
  assert.deepEqual([shift.labels, shift.detected, shift.recall], [2, 2, 1]);
  assert.equal(shift.medianDelayMs, (2 * MIN + 0) / 2, 'delays 2 min and 0 (an early alert counts as 0)');
  assert.equal(shift.maxDelayMs, 2 * MIN);
  assert.ok(Math.abs(shift.precision - 3 / 4.5) < 1e-12);
  assert.match(formatScore(s), /^spike\s+2\s+1\s+66\.7%\s+50\.0%/m);
});

const edges = [
  { name: 'no labels and no alerts is perfect', labels: [], alerts: [], precision: 1, recall: 1 },
  { name: 'alerts without labels are all false', labels: [], alerts: [alert('a', 'x', 1)], precision: 0, recall: 1 },
  {
    name: 'labels without alerts are all missed',
    labels: [label('a', 'x', 'spike', 1, 1)],
    alerts: [],
    precision: 0,
    recall: 0,
  },
  {
    name: 'an alert just inside the late tolerance counts',
    labels: [label('a', 'x', 'drift', 10, 20)],
    alerts: [alert('a', 'x', 30)],
    precision: 1,
    recall: 1,
  },
  {
    name: 'an alert just outside the early tolerance does not',
    labels: [label('a', 'x', 'drift', 10, 20)],
    alerts: [alert('a', 'x', 4.99)],
    precision: 0,
    recall: 0,
  },
];
for (const c of edges) {
  test(`scorer: ${c.name}`, () => {
    const s = scoreAlerts(c.labels, c.alerts, { earlyMs: 5 * MIN, lateMs: 10 * MIN });
    assert.equal(s.precision, c.precision);
    assert.equal(s.recall, c.recall);
  });
}
