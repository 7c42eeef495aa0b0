import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BatchEnvelope, WindowResult } from '@tributary/firmware-schemas';
import {
  PointEncoder,
  type EncodedLines,
  type Lines,
  type UnencodablePoint,
  type WindowInput,
} from '@tributary/storage';
import { batch, processorRig } from './influx/processor-rig.js';
import type { PointSink } from './processor.js';
import type { WriteReport } from './influx/requests.js';

/** An encoder that keeps weak references to every batch it decodes and every group of lines it makes. */
class Watching extends PointEncoder {
  readonly batches: Array<WeakRef<BatchEnvelope>> = [];
  readonly lines: Array<WeakRef<EncodedLines>> = [];
  override batchBytes(
    b: BatchEnvelope,
    judged?: (w: WindowResult) => WindowInput | undefined,
  ): { lines: EncodedLines; unencodable: UnencodablePoint[] } {
    const encoded = super.batchBytes(b, judged);
    this.batches.push(new WeakRef(b));
    this.lines.push(new WeakRef(encoded.lines));
    return encoded;
  }
}

/** A writer that keeps, as InfluxWriter does, only a count of each group's lines until it settles them. */
class CountingSink implements PointSink {
  readonly pending: Array<{ lines: number; settle: (r: WriteReport) => void }> = [];
  write(lines: Lines): Promise<WriteReport> {
    return new Promise((settle) => this.pending.push({ lines: lines.length, settle }));
  }
  room(): Promise<void> {
    return Promise.resolve();
  }
}

test('a batch being written holds neither its decoded windows nor its lines until its ack (the writer has them as bytes)', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const encoder = new Watching();
  const sink = new CountingSink();
  const { processor, counters } = processorRig(t, { encoder, writer: sink });
  const series = Array.from({ length: 50 }, (_, i) => [`d${i}`, 'temperature'] as const);
  const acks = [1, 2, 3, 4, 5].map((seq) => processor.process(batch(seq, seq, series), 'gw').ack);
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(sink.pending.length, 5, 'every batch is being written, none acked');
  assert.equal(encoder.batches.filter((r) => r.deref() !== undefined).length, 0, 'decoded batches still held');
  assert.equal(encoder.lines.filter((r) => r.deref() !== undefined).length, 0, 'lines still held');
  // And they are acked as before once durable, with every point counted.
  for (const p of sink.pending) p.settle({ deadLettered: 0, dropped: 0 });
  for (const ack of acks) assert.equal((await ack)?.status, 'ok');
  assert.equal(counters.get('points_written'), 5 * 51);
  assert.equal(counters.get('windows_written'), 5 * 50);
});
