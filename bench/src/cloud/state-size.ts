/**
 * node --expose-gc state-size.js SERIES WINDOWS — where a series' memory goes: SERIES series of the
 * bench fleet, WINDOWS windows each, through the live Detection (default plans) in this thread.
 *
 * A series' detectors keep their numbers in one shared buffer (the slab, stats/slab.ts), so letting
 * a member go frees none of it until the last one goes. The slab is therefore measured first, and
 * apart: while the fleet runs, each region the slab hands out is noted with the member that asked
 * for it (its factory, or its update, heard or tick, was running), and the slab's bytes are told
 * by member from those regions, plus the room a buffer keeps to grow into (`slab.by_member`,
 * `slab.room_kb`). Then every slab is swapped for an empty one (full GC: what the slabs held, heap
 * and buffers) and the rest let go one at a time, with a full GC after each: each ensemble member
 * in turn (in every series at once), the ensembles' shells, the device detectors, the alert
 * lifecycle, then Detection's own bookkeeping (series table, agents' clocks), and last the
 * bench's own generator of the fleet (counted in the totals, no part of the processor's state).
 * One JSON line, kB per series.
 *
 * It reaches into private fields (Detection's series table, the ensemble's members, a slab's
 * buffer): a measurement, not an API; it says so and stops when they are not where it looks.
 */
import { AlertLifecycle, Detection, detectorPlans, MEMBERS, Slab } from '@tributary/cloud-processor';
import { windowInput } from '@tributary/storage';
import { decodeBatchTolerant, ProcessorConfigSchema, type BatchEnvelope } from '@tributary/firmware-schemas';
import { WindowBatches } from '@tributary/test/harness/window-batches.js';

const [series, windows] = process.argv.slice(2).map(Number) as [number, number];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function measure(): { heap: number; buffers: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

// Who asked for each region: the member whose factory or method is running (by its config, which
// daily and weekly do not share although their class is one), else the ensemble's shell.
let asking = 'shell';
let owners: Map<Slab, string[]> | undefined = new Map();
const byConfig = new Map<unknown, string>();
const alloc = Slab.prototype.alloc;
Slab.prototype.alloc = function (this: Slab, bytes: number): number {
  const id = alloc.call(this, bytes);
  let o = owners?.get(this);
  if (o === undefined) owners?.set(this, (o = []));
  if (o !== undefined) o[id] = HELPERS ? `${asking}/${helper()}` : asking;
  return id;
};
/** STATE_SIZE_HELPERS=1: regions told by member and the helper that asked (from the stack: slow). */
const HELPERS = process.env.STATE_SIZE_HELPERS === '1';
function helper(): string {
  const frames = new Error().stack?.split('\n').slice(2) ?? [];
  const f = frames.find((l) => !l.includes('state-size.js') && !l.includes('slab.js')) ?? '';
  return /at (?:new )?([\w.]+)/.exec(f)?.[1] ?? '?';
}
type Method = (this: { config?: unknown }, ...args: unknown[]) => unknown;
const patched = new Set<object>();
function noteCalls(proto: Record<string, unknown>): void {
  if (patched.has(proto)) return;
  patched.add(proto);
  for (const name of ['update', 'heard', 'tick']) {
    const f = proto[name] as Method | undefined;
    if (typeof f !== 'function') continue;
    proto[name] = function (this: { config?: unknown }, ...args: unknown[]): unknown {
      const before = asking;
      asking = byConfig.get(this.config) ?? before;
      try {
        return f.apply(this, args);
      } finally {
        asking = before;
      }
    };
  }
}
const factories = MEMBERS as unknown as Record<string, (c: unknown, s?: unknown, x?: unknown) => object>;
for (const name of Object.keys(factories)) {
  const make = factories[name]!;
  factories[name] = (config, snapshot, context) => {
    byConfig.set(config, name);
    const before = asking;
    asking = name;
    try {
      const d = make(config, snapshot, context);
      noteCalls(Object.getPrototypeOf(d) as Record<string, unknown>);
      return d;
    } finally {
      asking = before;
    }
  };
}

let gen: WindowBatches | undefined = new WindowBatches({
  series,
  agents: 20,
  windowMs: 60_000,
  readingsPerWindow: 60,
  startMs: 1_700_000_000_000,
  seed: 7,
});
const config = ProcessorConfigSchema.parse({});
let lifecycle: AlertLifecycle | undefined = new AlertLifecycle(config.alerts);
let detection: Detection | undefined = new Detection(detectorPlans(config.detection), lifecycle, series * 2);
const empty = measure();
for (let r = 0; r < windows; r++) {
  for (const { payload } of gen!.nextPayloads()) {
    const batch = (decodeBatchTolerant(payload) as { ok: true; value: { batch: BatchEnvelope } }).value.batch;
    const points = batch.windows.map(windowInput);
    detection.ingest(batch.agent, points, batch.watermark);
  }
}

const kb = (bytes: number): number => Math.round((bytes / series / 1024) * 100) / 100;
const part = (a: { heap: number; buffers: number }, b: { heap: number; buffers: number }) => ({
  heap_kb: kb(a.heap - b.heap),
  array_buffers_kb: kb(a.buffers - b.buffers),
});

/** Every slab reachable from `root`, each swapped for `swap` where it was held when one is given. */
function slabsIn(root: object, swap?: Slab): Set<Slab> {
  const found = new Set<Slab>();
  const seen = new Set<object>();
  const stack: object[] = [root];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    const values: Array<[string | undefined, unknown]> =
      o instanceof Map || o instanceof Set
        ? [...o.values()].map((v) => [undefined, v])
        : Object.keys(o).map((k) => [k, (o as Record<string, unknown>)[k]]);
    for (const [key, v] of values) {
      if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) continue;
      if (v instanceof Slab) {
        found.add(v);
        if (swap !== undefined && key !== undefined) (o as Record<string, unknown>)[key] = swap;
      } else stack.push(v);
    }
  }
  return found;
}

// The slabs' bytes by the member that holds each region, and the room beyond their regions.
const slabBytes: Record<string, number> = {};
let room = 0;
for (const slab of slabsIn(detection)) {
  const buffer = (slab as unknown as { buffer?: ArrayBuffer }).buffer;
  if (!(buffer instanceof ArrayBuffer)) throw new Error("state-size: cannot find a slab's buffer (its layout changed)");
  room += buffer.byteLength - slab.byteLength;
  const who = owners!.get(slab) ?? [];
  for (let id = 0; id < who.length; id++) {
    const name = who[id] ?? 'unknown';
    slabBytes[name] = (slabBytes[name] ?? 0) + ((slab.bytes(id) + 7) & ~7);
  }
}
owners = undefined;
Slab.prototype.alloc = alloc;
const full = measure();

/** An ensemble as this script sees it: its members' names (the roster its series share) and their detectors, in that order. */
interface EnsembleParts {
  roster?: ReadonlyArray<{ name: string }>;
  detectors?: unknown[];
}
/** Every series' detector, wherever Detection keeps them (private: see the file comment). */
function seriesOf(d: Detection): Array<{ detector: unknown }> {
  const table = (d as unknown as { series?: { values?: () => Iterable<{ detector: unknown }> } }).series;
  if (typeof table?.values !== 'function')
    throw new Error('state-size: cannot find the series inside Detection (its private layout changed)');
  return [...table.values()];
}

const dets = seriesOf(detection).map((s) => s.detector as EnsembleParts);
if (dets.some((d) => d.roster === undefined || d.detectors === undefined))
  throw new Error("state-size: cannot find the ensemble's roster and detectors (its private layout changed)");
// The series' slabs first (the device detectors' too: they hang off Detection).
const none = new Slab();
for (const d of dets) slabsIn(d, none);
let after = measure();
const slabs = part(full, after);
let before = after;
const members: Record<string, { heap_kb: number; array_buffers_kb: number; slab_kb: number }> = {};
// By name: a series whose device's detector holds its level shifts has no shift member.
const names = [...new Set(dets.flatMap((d) => d.roster!.map((m) => m.name)))];
for (const name of names) {
  for (const d of dets) {
    const i = d.roster!.findIndex((m) => m.name === name);
    if (i >= 0) d.detectors![i] = null;
  }
  after = measure();
  // With its regions of the slab (measured apart above), so that a member's line is all it holds.
  members[name] = { ...part(before, after), slab_kb: kb(slabBytes[name] ?? 0) };
  before = after;
}
dets.length = 0;
for (const s of seriesOf(detection)) s.detector = null;
after = measure();
const shells = part(before, after);
before = after;
let inside: Record<string, unknown> | undefined = detection as unknown as Record<string, unknown>;
if (!('devices' in inside && 'lifecycle' in inside))
  throw new Error("state-size: cannot find Detection's devices and lifecycle (its private layout changed)");
inside.devices = undefined;
after = measure();
const devices = part(before, after);
before = after;
inside.lifecycle = undefined;
inside = undefined;
lifecycle = undefined;
after = measure();
const alerts = part(before, after);
before = after;
detection = undefined;
after = measure();
const bookkeeping = part(before, after);
before = after;
gen = undefined;
after = measure();
const generator = part(before, after);
const kbOf = (bytes: Record<string, number>) => Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, kb(v)]));
process.stdout.write(
  `${JSON.stringify({
    series,
    windows,
    heap_kb_per_series: kb(full.heap - empty.heap),
    array_buffers_kb_per_series: kb(full.buffers - empty.buffers),
    slab: { ...slabs, room_kb: kb(room), by_member_kb: kbOf(slabBytes) },
    members,
    ensemble_shell: shells,
    device_detectors: devices,
    alert_lifecycle: alerts,
    detection_bookkeeping: bookkeeping,
    bench_generator_not_state: generator,
    // What stays when all is let go (compiled code, its feedback, interned names): the same for 2,000 series as for 100,000.
    left_after_all: part(after, empty),
  })}\n`,
);
