import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WindowInput } from '@tributary/storage';
import { prng } from '../detect/synthetic.js';
import { JudgedWindows } from './judged-windows.js';

const at = (end: number) => ({ device: 'd', metric: 'm', start: end - 60_000, end });
const input = (ts: number) => ({
  device: 'd',
  metric: 'm',
  ts,
  lengthMs: 60_000,
  value: ts,
  min: ts,
  max: ts,
  stddev: 0,
  count: 1,
  first: ts,
  last: ts,
  outOfRange: 0,
});

test('judged windows are bounded: the latest half to all of maxWindows are remembered, never more', () => {
  const j = new JudgedWindows(100);
  for (let ts = 1; ts <= 1_000; ts++) {
    j.remember('gw', input(ts));
    assert.ok(j.size <= 100, `size ${j.size} at ${ts}`);
    for (let back = 0; back < 50 && back < ts; back++)
      assert.equal(j.judged('gw', at(ts - back))?.value, ts - back, `window ${ts - back} at ${ts}`);
  }
  assert.equal(j.judged('gw', at(800)), undefined, 'an old one is forgotten');
  assert.equal(j.judged('other', at(1_000)), undefined, 'keyed by agent too');
  assert.deepEqual(j.judged('gw', at(1_000)), input(1_000), 'given back as judged');
  const none = new JudgedWindows(0);
  none.remember('gw', input(1));
  assert.equal(none.size, 0);
});

test('judged windows of many series, interleaved and remembered twice: each found by its series and end, the newest judgement first', () => {
  const j = new JudgedWindows(1_000);
  const of = (device: string, metric: string, ts: number, value: number) => ({ ...input(ts), device, metric, value });
  // Names are data: an id like a Map's or an Object's own key is a series like any other.
  const devices = ['d1', 'd2', '__proto__', 'constructor'];
  for (let ts = 1; ts <= 100; ts++) for (const d of devices) j.remember('gw', of(d, 'm', ts, ts * 10 + d.length));
  j.remember('gw', of('d1', 'm', 50, -1)); // remembered again: its newer judgement wins
  for (const d of devices)
    for (const ts of [100, 99, 60, 51])
      assert.equal(j.judged('gw', { device: d, metric: 'm', start: ts - 60_000, end: ts })?.value, ts * 10 + d.length);
  assert.equal(j.judged('gw', { device: 'd1', metric: 'm', start: 0, end: 50 })?.value, -1);
  assert.equal(j.judged('gw', { device: 'd1', metric: 'other', start: 0, end: 50 }), undefined, 'keyed by metric');
  assert.equal(j.judged('gw', { device: 'd1', metric: 'm', start: 0, end: 100.5 }), undefined, 'and by end');
  assert.equal(j.judged('gw', { device: 'd3', metric: 'm', start: 0, end: 50 }), undefined);
});

test('one series holding a whole generation: its recent windows are found, a lookup walks at most MAX_WALK of them', () => {
  const j = new JudgedWindows(20_000);
  for (let ts = 1; ts <= 10_000; ts++) j.remember('gw', input(ts));
  assert.equal(j.judged('gw', at(10_000))?.value, 10_000);
  assert.equal(j.judged('gw', at(10_000 - 4_095))?.value, 10_000 - 4_095, 'the 4,096th newest');
  assert.equal(j.judged('gw', at(10_000 - 4_096)), undefined, 'beyond the walk: as if forgotten');
  assert.equal(j.judged('gw', at(123_456)), undefined, 'never remembered');
});

type Input = WindowInput;
type Key = { readonly device: string; readonly metric: string; readonly start: number; readonly end: number };

/**
 * The reference: two lists of windows, the newer filled to ceil(maxWindows / 2) and then made the
 * older one (the older dropped); a lookup takes the newest match of the newer, then of the older.
 */
class Model {
  private current: Array<{ agent: string; input: Input }> = [];
  private previous: Array<{ agent: string; input: Input }> = [];
  private readonly generation: number;
  constructor(maxWindows: number) {
    this.generation = Math.ceil(maxWindows / 2);
  }
  remember(agent: string, i: Input): void {
    if (this.generation === 0) return;
    this.current.push({ agent, input: i });
    if (this.current.length >= this.generation) [this.previous, this.current] = [this.current, []];
  }
  judged(agent: string, w: Key) {
    const found = (list: Array<{ agent: string; input: Input }>) =>
      list.findLast(
        (e) => e.agent === agent && e.input.device === w.device && e.input.metric === w.metric && e.input.ts === w.end,
      );
    const e = found(this.current) ?? found(this.previous);
    if (e === undefined) return undefined;
    const { first, last, ...rest } = e.input;
    return {
      ...rest,
      ts: w.end,
      lengthMs: w.end - w.start,
      ...(first === undefined ? {} : { first }),
      ...(last === undefined ? {} : { last }),
    };
  }
  get size(): number {
    return this.current.length + this.previous.length;
  }
}

test('judged windows as a simple model of two generations, at random: capacities from none to hundreds, generations rotated many times, names like __proto__', () => {
  const agents = ['gw', '__proto__', 'constructor'];
  const devices = ['d1', 'd2', '__proto__', 'constructor', 'hasOwnProperty', ''];
  const metrics = ['m', '__proto__', 'valueOf'];
  for (const maxWindows of [0, 1, 2, 3, 7, 10, 64, 501]) {
    const random = prng(maxWindows + 1);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const j = new JudgedWindows(maxWindows);
    const model = new Model(maxWindows);
    let [remembered, found, forgotten] = [0, 0, 0];
    const recent: Array<[string, string, string, number]> = [];
    for (let op = 0; op < 4_000; op++) {
      // Few ends, so windows are remembered twice and a series has many in a generation.
      const fresh: [string, string, string, number] = [
        pick(agents),
        pick(devices),
        pick(metrics),
        60_000 * (1 + Math.floor(random() * 40)),
      ];
      const remember = random() < 0.6;
      // Half the lookups are of one of the last few windows remembered: found, or just rotated out.
      const [agent, device, metric, end] = !remember && recent.length > 0 && random() < 0.5 ? pick(recent) : fresh;
      if (remember) {
        recent.push(fresh);
        if (recent.length > 4) recent.shift();
        const count = Math.floor(random() * 4); // 0: a window of out-of-range readings only
        const value = count === 0 ? Number.NaN : random() * 100 - 50;
        const { first: _first, last: _last, ...numbers } = input(end);
        const judged: Input = {
          ...numbers,
          device,
          metric,
          count,
          value,
          min: value - 1,
          max: value + 1,
          stddev: count === 0 ? Number.NaN : random(),
          outOfRange: Math.floor(random() * 3),
          // A window of out-of-range readings only has no first or last; some others lack them too.
          ...(count === 0 || random() < 0.2 ? {} : { first: value + 0.5, last: value - 0.5 }),
        };
        j.remember(agent, judged);
        model.remember(agent, judged);
        remembered++;
      } else {
        const w = { device, metric, start: end - 60_000 * (1 + Math.floor(random() * 3)), end };
        const want = model.judged(agent, w);
        assert.deepEqual(j.judged(agent, w), want, `${maxWindows}: op ${op}, ${agent}/${device}/${metric} at ${end}`);
        if (want === undefined) forgotten++;
        else found++;
      }
      assert.equal(j.size, model.size, `${maxWindows}: size at op ${op}`);
    }
    const rotations = maxWindows === 0 ? 0 : Math.floor(remembered / Math.ceil(maxWindows / 2));
    assert.ok(
      maxWindows === 0 || (rotations >= 4 && found > 0 && forgotten > 0),
      `a real test at ${maxWindows}: ${rotations} generations, ${found} found, ${forgotten} not`,
    );
  }
});
