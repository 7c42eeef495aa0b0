import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAD_TO_SIGMA } from '../detector.js';
import { RecentValues } from '../stats/recent-values.js';
import { beyondEnvelope } from './window-envelope.js';

/** The envelope as it was computed before it skipped the spread inside the edge: every read, every window. */
function beyondEnvelopeInFull(h: RecentValues, x: number, eitherWay: boolean): number {
  if (h.length === 0) return 0;
  const median = h.median();
  const spread = Math.max(
    MAD_TO_SIGMA * h.mad(median),
    (h.quantile(0.9) - h.quantile(0.1)) / 2.5631,
    1e-9 * Math.max(1, Math.abs(median)),
  );
  const edge = eitherWay ? Math.max(h.quantile(1), -h.quantile(0)) : h.quantile(1);
  return Math.max(0, (x - edge) / spread);
}

test('window envelope: reading the spread only beyond the edge changes no answer (bit for bit), whatever the history and the value', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.integer({ min: -5, max: 5 })), {
        minLength: 1,
        maxLength: 200,
      }),
      fc.integer({ min: 3, max: 60 }),
      fc.array(fc.double({ min: -2e4, max: 2e4, noNaN: true }), { maxLength: 5 }),
      fc.boolean(),
      (xs, capacity, probes, eitherWay) => {
        const h = new RecentValues(capacity, -7);
        for (const x of xs) {
          for (const p of [x, 2 * x + 1, ...probes]) {
            // The full reads first: the cached median, MAD and quantiles are then those the shortcut would read.
            const full = beyondEnvelopeInFull(h, p, eitherWay);
            assert.ok(Object.is(beyondEnvelope(h, p, eitherWay), full), `${p} of ${h.length} values`);
          }
          h.push(x);
        }
      },
    ),
    { numRuns: 100 },
  );
});
