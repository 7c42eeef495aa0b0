import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { encodeBatch, ProcessorConfigSchema, type BatchEnvelopeInput } from '@tributary/firmware-schemas';
import { Counters, ProblemReport } from '@tributary/runtime';
import { AlertLifecycle } from '../alerts/lifecycle.js';
import { cloudCounterHelp } from '../counters.js';
import { Dedupe } from '../state/dedupe.js';
import { detectorPlans } from '../detect/registry.js';
import { LocalDetection } from '../detect/detection-runner.js';
import { Detection } from '../detect/detection.js';
import { BatchProcessor, type BatchProcessorOptions, type PointSink } from '../processor.js';
import { lineTexts, type Lines } from '@tributary/storage';
import { DeadLetterFile, type DeadLetterRecord } from './dead-letter.js';
import type { WriteReport } from './requests.js';

/** A sink whose writes the test settles by hand, in any order. */
export class HeldSink implements PointSink {
  readonly writes: Array<{ lines: readonly string[]; settle: (r: WriteReport) => void; fail: (err: Error) => void }> =
    [];
  write(lines: Lines): Promise<WriteReport> {
    return new Promise((settle, fail) => this.writes.push({ lines: lineTexts(lines), settle, fail }));
  }
  room(): Promise<void> {
    return Promise.resolve();
  }
}

/** Detection in this thread with the default plans (a `detection` built from `d` when given). */
export function localDetection(d?: (lifecycle: AlertLifecycle) => Detection): LocalDetection {
  const config = ProcessorConfigSchema.parse({});
  const lifecycle = new AlertLifecycle(config.alerts);
  return new LocalDetection(
    d?.(lifecycle) ?? new Detection(detectorPlans(config.detection), lifecycle, 1000),
    lifecycle,
  );
}

/** A BatchProcessor over a held sink and a real dead-letter file in a temporary directory (removed after the test). */
export function processorRig(
  t: TestContext,
  options: Partial<Pick<BatchProcessorOptions, 'encoder' | 'detection' | 'deadLetter' | 'writer'>> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-processor-'));
  const deadLetter = new DeadLetterFile(join(dir, 'dead-letter.jsonl'), 1 << 20);
  t.after(async () => {
    await deadLetter.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sink = new HeldSink();
  const dedupe = new Dedupe(1024);
  const counters = new Counters(cloudCounterHelp);
  const problems = new ProblemReport();
  const apart: string[] = [];
  const processor = new BatchProcessor({
    maxBatchBytes: 1 << 20,
    dedupe,
    detection: localDetection(),
    writer: sink,
    deadLetter,
    counters,
    problems,
    onAlert: () => undefined,
    onTrackedApart: (what) => void apart.push(what),
    ...options,
  });
  const deadLetters = (): DeadLetterRecord[] => {
    try {
      return readFileSync(deadLetter.path, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as DeadLetterRecord);
    } catch {
      return [];
    }
  };
  return { sink, dedupe, counters, problems, processor, deadLetters, apart };
}

const T0 = 1_700_000_000_000;

/** A window of `device`'s `metric` ending at minute `minute`. */
export const windowOf = (device: string, metric: string, minute: number): BatchEnvelopeInput['windows'][number] => ({
  device,
  metric,
  start: T0 + (minute - 1) * 60_000,
  end: T0 + minute * 60_000,
  count: 3,
  sum: 63,
  min: 20,
  max: 22,
  mean: 21,
  m2: 2,
  first: 20,
  last: 22,
  firstTs: T0,
  lastTs: T0 + 1,
});

/** Batch `seq` of agent `gw`, holding minute `minute` (by default the seq-th) of the given series (by default device `d 1`'s temperature). */
export const batch = (
  seq: number,
  minute = seq,
  series: ReadonlyArray<readonly [string, string]> = [['d 1', 'temperature']],
): Uint8Array =>
  Buffer.from(
    encodeBatch({
      v: 1,
      agent: 'gw',
      seq,
      sentAt: T0 + minute * 60_000,
      counters: { readings_accepted: minute },
      windows: series.map(([device, metric]) => windowOf(device, metric, minute)),
    }),
  );
