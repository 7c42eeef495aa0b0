/**
 * stages.js SERIES AGENTS WARMUP ROUNDS — where a processor's CPU goes, stage by stage: the same
 * batches as bench:cloud, in one process with no I/O, through the processor's own pieces: decode
 * and validate (firmware-schemas, as the processor takes a batch), detection (the live Detection
 * with the default detector plans, in this thread), line-protocol encoding and request bodies (the
 * writer's encoder). CPU time (process.cpuUsage: this thread and V8's GC helpers), not wall time,
 * so other processes on a shared machine do not count. Prints one JSON line of µs per window for
 * each stage, after the warm-up rounds.
 */
import {
  AlertLifecycle,
  Detection,
  detectorPlans,
  JudgedWindows,
  PointEncoder,
  type SeriesInput,
} from '@tributary/cloud-processor';
import { windowInput } from '@tributary/storage';
import { decodeBatchTolerant, ProcessorConfigSchema, type BatchEnvelope } from '@tributary/firmware-schemas';
import { WindowBatches } from '@tributary/test/harness/window-batches.js';

const [series, agents, warmup, rounds] = process.argv.slice(2).map(Number) as [number, number, number, number];
const gen = new WindowBatches({
  series,
  agents,
  windowMs: 60_000,
  readingsPerWindow: 60,
  startMs: 1_700_000_000_000,
  seed: 7,
});
const config = ProcessorConfigSchema.parse({});
const detection = new Detection(
  detectorPlans(config.detection),
  new AlertLifecycle(config.alerts),
  config.detection.maxSeries,
);
const encoder = new PointEncoder();
// As BatchProcessor.detect: each first emission judged is also remembered for its corrections.
const judged = new JudgedWindows(config.detection.maxJudgedWindows);
const us = { decode: 0, detect: 0, encode: 0, body: 0 };
const cpu = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
let windows = 0;
for (let r = 0; r < warmup + rounds; r++) {
  const timed = r >= warmup;
  for (const { payload } of gen.nextPayloads()) {
    const t0 = cpu();
    const batch = (decodeBatchTolerant(payload) as { ok: true; value: { batch: BatchEnvelope } }).value.batch;
    const t1 = cpu();
    const points: SeriesInput[] = batch.windows.map(windowInput);
    for (const p of points) judged.remember(batch.agent, p);
    const alerts = detection.ingest(batch.agent, points, batch.watermark);
    const t2 = cpu();
    // As the processor encodes (the batch's windows and agent stats as bytes, its anomaly points apart).
    const { lines } = encoder.batchBytes(batch);
    encoder.anomalies(batch, alerts);
    const t3 = cpu();
    // The writer's body of the batch's lines: a view of their bytes (gzip aside).
    lines.bytes.subarray(lines.starts[0], lines.starts[lines.length]! - 1);
    const t4 = cpu();
    if (!timed) continue;
    us.decode += t1 - t0;
    us.detect += t2 - t1;
    us.encode += t3 - t2;
    us.body += t4 - t3;
    windows += batch.windows.length;
  }
}
const per = (total: number): number => Math.round((total * 10) / windows) / 10;
process.stdout.write(
  `${JSON.stringify({ decode_validate_us: per(us.decode), detect_us: per(us.detect), encode_us: per(us.encode), request_body_us: per(us.body) })}\n`,
);
