import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slab } from '../stats/slab.js';
import { MachineConfig } from './machine-config.js';
import { MachineMetric } from './machine-metric.js';

const SECOND = 1_000;

/**
 * A metric fed one residual a second (its level's clock moved on with each, which is all `fresh`
 * reads of it); returns what `fresh` made of each residual.
 */
function freshOf(residuals: readonly number[]): number[] {
  const config = MachineConfig.parse({});
  const m = new MachineMetric(config, new Slab());
  return residuals.map((r, i) => {
    m.level.observe(i * SECOND, 0);
    return m.fresh(r);
  });
}

test("the joint distance's residual of a slow build-up is its latest growth, while a step counts in full", () => {
  const baselineS = MachineConfig.parse({}).baselineMs / SECOND;
  const quiet = Array.from<number>({ length: 10 * baselineS }).fill(0);
  // Built up to 6 over ten baseline spans (a room filling, a flow that falls over minutes).
  const ramp = Array.from({ length: 10 * baselineS }, (_, i) => (6 * (i + 1)) / (10 * baselineS));
  const built = freshOf([...quiet, ...ramp]).at(-1)!;
  // Its average over the last baseline span lags it by about that span's growth (0.6); the whole residual is 6.
  assert.ok(built > 0 && built < 1.2, `the build-up to 6 read ${built.toFixed(2)} at its end`);
  // A step to 6 after the same quiet time is news at once, in full.
  const step = freshOf([...quiet, 6]).at(-1)!;
  assert.equal(step, 6);
  // Built up on the other side, nothing is taken off a step up (same side only).
  const down = ramp.map((r) => -r);
  const across = freshOf([...quiet, ...down, 6]).at(-1)!;
  assert.equal(across, 6);
});

test('a metric alone is judged by its whole residual until the residual has stayed on one side longer than the baseline spans, then by what moved', () => {
  const config = MachineConfig.parse({});
  const baselineS = config.baselineMs / SECOND;
  const m = new MachineMetric(config, new Slab());
  let t = 0;
  const alone = (r: number): number => {
    m.level.observe(t++ * SECOND, 0);
    return m.alone(r, m.fresh(r));
  };
  for (let i = 0; i < 10 * baselineS; i++) alone(i % 2 === 0 ? 0.5 : -0.5);
  // A residual that turned and grew for less than the baseline's span counts whole (a flow falling over 35 s).
  const ramp = Array.from({ length: 35 }, (_, i) => alone(-(6 * (i + 1)) / 35));
  assert.equal(ramp.at(-1), -6);
  // Still on that side past the span, it counts by what moved (its average over the span is taken off).
  let last = 0;
  for (let i = 0; i < baselineS; i++) last = alone(-6);
  assert.ok(last > -3 && last <= 0, `6 held past the span read ${last.toFixed(2)}`);
  // Released (back, or accepted), a residual counts whole again.
  m.release('return', t * SECOND);
  assert.equal(alone(-6), -6);
});
