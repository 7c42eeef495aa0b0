/**
 * stages.js SERIES AGENTS WARMUP ROUNDS — where a processor's CPU goes, stage by stage: the same
 * batches as bench:cloud, in one process with no I/O, through the processor's own pieces: decode
 * and validate (firmware-schemas), detection (the live Detection with the default detector plans),
 * line-protocol encoding and request bodies (the writer's encoder). Prints one JSON line of µs per
 * window for each stage, after the warm-up rounds.
 */
import { AlertLifecycle, Detection, detectorPlans, JudgedWindows, PointEncoder, type SeriesInput } from '@tributary/cloud-processor';
import { windowInput } from '@tributary/storage';
import { decodeBatch, ProcessorConfigSchema, type BatchEnvelope } from '@tributary/firmware-schemas';
import { WindowBatches } from '@tributary/test/harness/window-batches.js';

const [series, agents, warmup, rounds] = process.argv.slice(2).map(Number) as [number, number, number, number];
const gen = new WindowBatches({ series, agents, windowMs: 60_000, readingsPerWindow: 60, startMs: 1_700_000_000_000, seed: 7 });
const config = ProcessorConfigSchema.parse({});
const detection = new Detection(detectorPlans(config.detection), new AlertLifecycle(config.alerts), config.detection.maxSeries);
const encoder = new PointEncoder();
// As BatchProcessor.detect: each first emission judged is also remembered for its corrections.
const judged = new JudgedWindows(config.detection.maxJudgedWindows);
const us = { decode: 0, detect: 0, encode: 0, body: 0 };
let windows = 0;
for (let r = 0; r < warmup + rounds; r++) {
  const timed = r >= warmup;
  for (const { payload } of gen.nextPayloads()) {
    let t = performance.now();
    const batch = (decodeBatch(payload) as { ok: true; value: BatchEnvelope }).value;
    const t1 = performance.now();
    const points: SeriesInput[] = batch.windows.map(windowInput);
    for (const p of points) judged.remember(batch.agent, p);
    const alerts = detection.ingest(batch.agent, points);
    const t2 = performance.now();
    const { lines } = encoder.batch(batch, alerts);
    const t3 = performance.now();
    Buffer.from(lines.join('\n'));
    const t4 = performance.now();
    if (!timed) continue;
    us.decode += t1 - t;
    us.detect += t2 - t1;
    us.encode += t3 - t2;
    us.body += t4 - t3;
    windows += batch.windows.length;
    t = t4;
  }
}
const per = (ms: number): number => Math.round((ms * 1000 * 10) / windows) / 10;
process.stdout.write(`${JSON.stringify({ decode_validate_us: per(us.decode), detect_us: per(us.detect), encode_us: per(us.encode), request_body_us: per(us.body) })}\n`);
