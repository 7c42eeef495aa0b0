/**
 * node --expose-gc state-size.js SERIES WINDOWS — where a series' memory goes: SERIES series of the
 * bench fleet, WINDOWS windows each, through the live Detection (default plans) in this thread;
 * then the parts are let go one at a time, with a full GC after each, and the heap and array
 * buffers each release frees are what that part retains: each ensemble member in turn (in every
 * series at once), the ensembles' own shells, then Detection's bookkeeping with the alert
 * lifecycle. Prints one JSON line in kB per series.
 *
 * It reaches into private fields (Detection's series table, the ensemble's members): a measurement,
 * not an API; it says so and stops when they are not where it looks.
 */
import { AlertLifecycle, Detection, detectorPlans } from '@tributary/cloud-processor';
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

const gen = new WindowBatches({
  series,
  agents: 20,
  windowMs: 60_000,
  readingsPerWindow: 60,
  startMs: 1_700_000_000_000,
  seed: 7,
});
const config = ProcessorConfigSchema.parse({});
let detection: Detection | undefined = new Detection(
  detectorPlans(config.detection),
  new AlertLifecycle(config.alerts),
  series * 2,
);
const empty = measure();
for (let r = 0; r < windows; r++) {
  for (const { payload } of gen.nextPayloads()) {
    const batch = (decodeBatchTolerant(payload) as { ok: true; value: { batch: BatchEnvelope } }).value.batch;
    const points = batch.windows.map(windowInput);
    detection.ingest(batch.agent, points, batch.watermark);
  }
}
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

const kb = (bytes: number): number => Math.round((bytes / series / 1024) * 100) / 100;
const members: Record<string, { heap_kb: number; array_buffers_kb: number }> = {};
let before = full;
const dets = seriesOf(detection).map((s) => s.detector as EnsembleParts);
if (dets.some((d) => d.roster === undefined || d.detectors === undefined))
  throw new Error("state-size: cannot find the ensemble's roster and detectors (its private layout changed)");
// By name: a series whose device's detector holds its level shifts has no shift member.
const names = [...new Set(dets.flatMap((d) => d.roster!.map((m) => m.name)))];
for (const name of names) {
  for (const d of dets) {
    const i = d.roster!.findIndex((m) => m.name === name);
    if (i >= 0) d.detectors![i] = null;
  }
  const after = measure();
  members[name] = { heap_kb: kb(before.heap - after.heap), array_buffers_kb: kb(before.buffers - after.buffers) };
  before = after;
}
dets.length = 0;
for (const s of seriesOf(detection)) s.detector = null;
let after = measure();
const shells = { heap_kb: kb(before.heap - after.heap), array_buffers_kb: kb(before.buffers - after.buffers) };
before = after;
detection = undefined;
after = measure();
const bookkeeping = { heap_kb: kb(before.heap - after.heap), array_buffers_kb: kb(before.buffers - after.buffers) };
process.stdout.write(
  `${JSON.stringify({
    series,
    windows,
    heap_kb_per_series: kb(full.heap - empty.heap),
    array_buffers_kb_per_series: kb(full.buffers - empty.buffers),
    members,
    ensemble_shell: shells,
    detection_bookkeeping: bookkeeping,
  })}\n`,
);
