import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PhaseBins } from './phase-bins.js';
import { Slab } from './slab.js';

test('phase bins read as a profile of plain arrays filled with zeros (values and scales in float32), whatever the order of visits, and restore from their snapshot', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 300 }),
      fc.array(fc.tuple(fc.nat(), fc.double({ noNaN: true }), fc.double({ noNaN: true })), { maxLength: 400 }),
      (count, visits) => {
        const bins = new PhaseBins(count);
        const model = {
          season: new Array<number>(count).fill(0),
          scale: new Array<number>(count).fill(0),
          visits: new Array<number>(count).fill(0),
        };
        for (const [at, season, scale] of visits) {
          const b = at % count;
          bins.visit(b, season, scale);
          model.season[b] = Math.fround(season);
          model.scale[b] = Math.fround(scale);
          model.visits[b] = Math.min(3, model.visits[b]! + 1);
        }
        for (let b = 0; b < count; b++)
          assert.deepEqual(
            [bins.season(b), bins.scale(b), bins.visits(b)],
            [model.season[b], model.scale[b], model.visits[b]],
          );
        assert.deepEqual(bins.snapshot(), model);
        assert.deepEqual(new PhaseBins(count, bins.snapshot()).snapshot(), model);
      },
    ),
    { numRuns: 200 },
  );
});

test('visits are counted to 3, which reads as a bin visited two times or more, apart from its neighbours sharing its byte', () => {
  const bins = new PhaseBins(6);
  for (let i = 0; i < 1_000; i++) bins.visit(1, i, i);
  bins.visit(2, 5, 5);
  bins.visit(4, 7, 7);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((b) => bins.visits(b)),
    [0, 3, 1, 0, 1, 0],
  );
  assert.equal(bins.season(1), 999);
  assert.deepEqual(
    new PhaseBins(6, { season: [], scale: [], visits: [0, 255, 1, 0, 2] }).snapshot().visits,
    [0, 3, 1, 0, 2, 0],
  );
});

test('a profile holds the bins the cycle has reached, their visits among them: 30 bins of a day of 288 in 256 bytes of its slab (392 with room to spare and the visits of every bin)', () => {
  const slab = new Slab();
  const bins = new PhaseBins(288, undefined, slab);
  for (let b = 100; b < 130; b++) bins.visit(b, b, 1);
  assert.ok(slab.byteLength <= 256, `${slab.byteLength} bytes`);
  assert.deepEqual([bins.visits(99), bins.visits(100), bins.visits(129), bins.visits(130)], [0, 1, 1, 0]);
});
