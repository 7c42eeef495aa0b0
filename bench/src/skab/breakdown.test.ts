import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pointsPerRaw, runLedger } from './breakdown.js';
import { changepointScore, CP_PROFILES, type SkabScoredRun } from './score.js';

/** A run of `n` one-second rows with the given changepoints (row indices) and alert spans [from, to). */
function run(n: number, changepoints: number[], alerts: [number, number][], fault: [number, number]): SkabScoredRun {
  const ts = Array.from({ length: n }, (_, i) => i * 1000);
  const predicted = ts.map((_, i) => (alerts.some(([a, b]) => i >= a && i < b) ? 1 : 0));
  const truth = ts.map((_, i) => (i >= fault[0] && i < fault[1] ? 1 : 0));
  return { ts, truth, predicted, changepoints: changepoints.map((i) => i * 1000) };
}

test('the ledger names each window’s first alarm and every alarm outside the windows, and adds up to the pooled score', () => {
  // Changepoints at 100 and 400; an alert opening 10 s into the first window and closing 150 s
  // after the second (outside it), and a short alert before the fault.
  const r = run(
    700,
    [100, 400],
    [
      [30, 40],
      [110, 550],
    ],
    [100, 400],
  );
  const ledger = runLedger(r);
  assert.deepEqual(
    ledger.windows.map((w) => w.delayMs),
    [10_000, undefined],
  );
  assert.equal(ledger.windows[1]!.score, CP_PROFILES.standard.fn);
  assert.deepEqual(
    ledger.falseAlarms.map((a) => [a.ts / 1000, a.on, a.inFault, a.fromChangepointMs / 1000]),
    [
      [30, true, false, -70],
      [40, false, false, -60],
      [550, false, false, 150],
    ],
  );
  // The run's raw score, normalised as the pooled score is, is the pooled score of that run alone.
  const normalised = (ledger.score + 2) * pointsPerRaw(2);
  assert.equal(Math.round(normalised * 100) / 100, changepointScore([r]).standard);
});

test('an alarm inside the fault but outside every window is a false alarm inside the fault', () => {
  // Windows [100, 160] and [400, 460]; the alert closes at 250 (inside the fault) and opens again at 300.
  const ledger = runLedger(
    run(
      600,
      [100, 400],
      [
        [100, 250],
        [300, 420],
      ],
      [100, 400],
    ),
  );
  assert.deepEqual(
    ledger.falseAlarms.map((a) => [a.ts / 1000, a.on, a.inFault]),
    [
      [250, false, true],
      [300, true, true],
    ],
  );
  assert.deepEqual(
    ledger.windows.map((w) => w.delayMs),
    [0, 20_000],
  );
});
