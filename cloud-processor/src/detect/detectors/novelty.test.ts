import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sensorWindows } from '../synthetic.js';
import { Slab } from '../stats/slab.js';
import { createNovelty, NoveltyConfig } from './novelty.js';

test("novelty keeps its shapes in the series' slab (no typed arrays of its own), and a restore into another slab continues bit for bit", () => {
  const points = sensorWindows({ seed: 3, windows: 1_400, windowMs: 60_000, readingsPerWindow: 6, noise: 0.2 });
  const config = NoveltyConfig.parse({});
  const slab = new Slab();
  const a = createNovelty(config, undefined, { windowMs: 60_000, slab });
  for (const p of points.slice(0, 1_000)) a.update(p);
  // The memory's values (512 shapes of 8 take 519, with room for twice that) are in the slab.
  assert.ok(slab.byteLength >= 8 * (512 + 7), `${slab.byteLength} bytes`);
  assert.ok(Object.values(a).every((v) => !ArrayBuffer.isView(v)));
  const b = createNovelty(config, JSON.parse(JSON.stringify(a.snapshot())), { windowMs: 60_000, slab: new Slab() });
  for (const p of points.slice(1_000)) assert.deepEqual(b.update(p), a.update(p));
  assert.deepEqual(b.snapshot(), a.snapshot());
});
