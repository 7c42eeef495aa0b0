import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rawPoint, type SeriesPoint } from '../detector.js';
import { createDetector } from '../registry.js';
import { gaussian, prng } from '../synthetic.js';

const FIVE_MINUTES = 300_000;
const DAY = 86_400_000;

/** Every 5 minutes from midnight: calm at night (σ 1 until 08:00), five times noisier by day, around 100. */
function dayAndNight(seed: number, days: number): SeriesPoint[] {
  const normal = gaussian(prng(seed));
  const points: SeriesPoint[] = [];
  for (let ts = 0; ts < days * DAY; ts += FIVE_MINUTES) {
    const sigma = ts % DAY < DAY / 3 ? 1 : 5;
    points.push(rawPoint(ts, 100 + sigma * normal()));
  }
  return points;
}

test("the ensemble's calibrations learn a whole day before they judge: a series calmer at night than by day raises no alarm on its first morning", () => {
  for (const seed of [1, 2, 3]) {
    const points = dayAndNight(seed, 1.5);
    const d = createDetector('ensemble');
    const alarms = points.filter((p) => d.update(p).score >= 0.5).map((p) => `${(p.ts / 3_600_000).toFixed(1)} h`);
    assert.deepEqual(alarms, [], `seed ${seed}: alarms at ${alarms.join(', ')}`);
  }
});

test('after its first day the ensemble still alarms at once on a spike of the calm night', () => {
  const points = dayAndNight(4, 3);
  const at = (2 * DAY + 3 * 3_600_000) / FIVE_MINUTES; // 03:00 on the third day
  points[at] = rawPoint(points[at]!.ts, 130);
  const d = createDetector('ensemble');
  const scores = points.map((p) => d.update(p).score);
  assert.ok(scores[at]! >= 0.5, `the spike scored ${scores[at]}`);
});
