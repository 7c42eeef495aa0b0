import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ProcessorConfigSchema,
  type AlertEvent,
  type BatchEnvelope,
  type WindowResult,
} from '@tributary/firmware-schemas';
import { batch, localDetection, processorRig } from './influx/processor-rig.js';
import { PointEncoder, type LineBytes, type WindowInput } from '@tributary/storage';
import { Detection } from './detect/detection.js';
import type { SeriesInput } from './detect/detection.js';
import { detectorPlans } from './detect/registry.js';

const config = ProcessorConfigSchema.parse({});

const written = { deadLettered: 0, dropped: 0 };

/** An encoder with a bug that throws on one device's windows. */
class FailsOn extends PointEncoder {
  constructor(private readonly device: string) {
    super();
  }
  override window(b: BatchEnvelope, w: WindowResult): string | undefined {
    if (w.device === this.device) throw new TypeError('key.replace is not a function');
    return super.window(b, w);
  }
  /** The same bug where the processor's encoding (as bytes) meets it, half-way through the line. */
  override writeWindow(out: LineBytes, b: BatchEnvelope, w: WindowResult, judged: WindowInput | undefined): boolean {
    if (w.device !== this.device) return super.writeWindow(out, b, w, judged);
    out.text('temperature,agent=gw,device=bad count=');
    throw new TypeError('key.replace is not a function');
  }
}

test('a batch holding metrics named constructor, toString, valueOf and hasOwnProperty is written and acked like any other', async (t) => {
  const { sink, counters, processor } = processorRig(t);
  const names = ['constructor', 'toString', 'valueOf', 'hasOwnProperty'];
  const handled = processor.process(
    batch(1, 1, [['p', 'temperature'], ...names.map((m) => ['p', m] as const), ['q', 'humidity']]),
    'gw',
  );
  assert.equal(sink.writes.length, 1);
  assert.deepEqual(
    sink.writes[0]!.lines.map((l) => l.split(',')[0]),
    ['temperature', ...names, 'humidity', 'agent_stats'],
  );
  sink.writes[0]!.settle(written);
  assert.equal((await handled.ack)?.status, 'ok');
  assert.equal(counters.get('points_written'), 7);
  assert.equal(counters.get('points_unencodable'), 0);
});

test('a point that cannot be encoded is dead-lettered with its reason and reported by name; the rest of its batch is written and acked', async (t) => {
  const { sink, counters, problems, processor, deadLetters } = processorRig(t, { encoder: new FailsOn('bad') });
  const handled = processor.process(
    batch(1, 1, [
      ['good', 'temperature'],
      ['bad', 'temperature'],
      ['also good', 'humidity'],
    ]),
    'gw',
  );
  assert.deepEqual(
    sink.writes[0]!.lines.map((l) => l.split(/(?<!\\) /)[0]),
    ['temperature,agent=gw,device=good', 'humidity,agent=gw,device=also\\ good', 'agent_stats,agent=gw'],
  );
  sink.writes[0]!.settle(written);
  assert.equal((await handled.ack)?.status, 'ok', 'acked: the agent stops sending it');
  assert.equal(counters.get('points_unencodable'), 1);
  assert.equal(counters.get('points_written'), 3);
  assert.equal(counters.get('batches_written'), 1);
  const [record, ...more] = deadLetters();
  assert.deepEqual(more, []);
  assert.ok(record && 'point' in record, 'the point is in the dead-letter file before the ack');
  assert.match(record.reason, /cannot encode as line protocol: key\.replace is not a function/);
  assert.deepEqual((record.point as { window: { device: string; metric: string } }).window.device, 'bad');
  const report = problems.drain();
  assert.deepEqual(
    report.map((p) => [p.reason, p.count]),
    [['point_unencodable', 1]],
  );
  assert.match(report[0]!.example, /agent gw device "bad" metric temperature: cannot encode/);
});

test('when the dead-letter file cannot be written, the unencodable point is counted as dropped and its batch still acked', async (t) => {
  const { sink, counters, problems, processor } = processorRig(t, {
    encoder: new FailsOn('bad'),
    deadLetter: {
      path: '/nonexistent/dead-letter.jsonl',
      appendEntries: () => Promise.reject(new Error('EROFS: read-only file system')),
    },
  });
  const handled = processor.process(
    batch(1, 1, [
      ['good', 'temperature'],
      ['bad', 'temperature'],
    ]),
    'gw',
  );
  sink.writes[0]!.settle(written);
  assert.equal((await handled.ack)?.status, 'ok');
  assert.equal(counters.get('points_unencodable'), 1);
  assert.equal(counters.get('points_dead_letter_dropped'), 1);
  assert.match(problems.drain().find((p) => p.reason === 'dead_letter_dropped')?.example ?? '', /EROFS.*device "bad"/);
});

test('when detection throws, the batch’s points are written and acked without its alerts, and that is counted and reported', async (t) => {
  const broken = localDetection(
    (lifecycle) =>
      new (class extends Detection {
        override ingest(_agent: string, _points: readonly SeriesInput[]): AlertEvent[] {
          throw new RangeError('detector state corrupt');
        }
      })(detectorPlans(config.detection), lifecycle, 10),
  );
  const { sink, counters, problems, processor } = processorRig(t, { detection: broken });
  const handled = processor.process(batch(1), 'gw');
  assert.equal(sink.writes[0]!.lines.length, 2);
  sink.writes[0]!.settle(written);
  assert.equal((await handled.ack)?.status, 'ok');
  assert.equal(counters.get('batches_detection_failed'), 1);
  assert.match(
    problems.drain().find((p) => p.reason === 'detection_failed')?.example ?? '',
    /agent gw seq 1: detector state corrupt/,
  );
});

test('any other exception dead-letters the batch as it arrived and acks it rejected, counted and reported', async (t) => {
  const broken = new (class extends PointEncoder {
    override batchBytes(): never {
      throw new TypeError('a bug');
    }
  })();
  const { sink, counters, problems, processor, deadLetters } = processorRig(t, { encoder: broken });
  const payload = batch(7);
  const ack = await processor.process(payload, 'gw').ack;
  assert.equal(sink.writes.length, 0);
  assert.equal(ack?.status, 'rejected', 'answered: the agent stops resending it');
  assert.equal(ack?.seq, 7);
  assert.match(ack?.reason ?? '', /processing failed: a bug; kept in the processor's dead-letter file/);
  assert.equal(counters.get('batches_failed'), 1);
  const [record] = deadLetters();
  assert.ok(record && 'batch' in record);
  assert.equal(record.batch, Buffer.from(payload).toString('utf8'));
  assert.match(
    problems.drain().find((p) => p.reason === 'batch_failed')?.example ?? '',
    /gw seq 7: processing failed: a bug/,
  );
});
