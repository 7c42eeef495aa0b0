import {
  AGENT_ID_PATTERN,
  decodeBatchTolerant,
  type Ack,
  type AlertEvent,
  type BatchEnvelope,
  type Counters,
  type ProblemReport,
} from '@tributary/firmware-schemas';
import type { CloudCounter } from './counters.js';
import type { Dedupe } from './dedupe.js';
import { PointEncoder, windowStddev } from './influx/points.js';
import type { WriteReport } from './influx/requests.js';
import { Pipelined } from './ingest/intake.js';
import type { Detection, SeriesInput } from './detection.js';
import { SeqOrder } from './seq-order.js';

/** The writer as the processor uses it (InfluxWriter). */
export interface PointSink {
  /** Resolves when every line is durable (or dead-lettered); rejects with WriteAbortedError on stop. */
  write(lines: readonly string[]): Promise<WriteReport>;
  /** Resolves when the write backlog has room for more. */
  room(): Promise<void>;
}

export interface BatchProcessorOptions {
  readonly maxBatchBytes: number;
  readonly dedupe: Dedupe;
  readonly detection: Detection;
  readonly writer: PointSink;
  readonly counters: Counters<CloudCounter>;
  readonly problems: ProblemReport;
  /** Metric → unit tag value, for metrics whose unit is known. */
  readonly units?: Readonly<Record<string, string>>;
  /** Called for every alert transition once its batch is durable (MQTT, log, API). */
  readonly onAlert: (alert: AlertEvent) => void;
}

/**
 * validate → dedupe (agent, seq) → detect → write (windows, agent stats, anomalies) → ack.
 * Transport-independent: MQTT ingest publishes the returned ack, HTTP ingest answers with it.
 *
 * Pipelined: validation, dedupe and detection run for one batch at a time in arrival order (so
 * every series sees its windows in order); the batch's points then go to the writer, which
 * coalesces several batches into each request and keeps several requests in flight, and the next
 * batch starts at once unless the write backlog is full. Batches finish in arrival order: dedupe
 * records a batch, its alerts go out and its ack `ok` is returned only after every point of it is
 * durable (in InfluxDB, or refused by InfluxDB and in the dead-letter file) and every earlier
 * batch has finished.
 */
export class BatchProcessor {
  private readonly encoder: PointEncoder;
  /** Batches being written, by agent, epoch and seq: whether they were written, and whether a copy waits for that. */
  private readonly writing = new Map<string, { readonly done: Promise<boolean>; copyWaiting: boolean }>();
  /** Settles when the latest batch has finished; each batch finishes after the one before. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly order = new SeqOrder();

  constructor(private readonly o: BatchProcessorOptions) {
    this.encoder = new PointEncoder(o.units);
  }

  /**
   * Handles one batch payload. `topicAgent` is the agent the transport says it came from. The ack
   * is undefined when there is no one to ack (agent unknown); it rejects only with
   * WriteAbortedError, when the processor stops before the batch was durable.
   */
  process(payload: Uint8Array, topicAgent: string | undefined): Pipelined {
    const { counters } = this.o;
    counters.inc('batches_received');
    const decoded = decodeBatchTolerant(payload, this.o.maxBatchBytes);
    if (!decoded.ok && decoded.error.code === 'version') {
      // A newer agent: no ack, so it keeps the batch until a cloud that reads it is deployed.
      counters.inc('batches_unsupported_version');
      this.o.problems.note('unsupported_version', `${topicAgent ?? 'unknown agent'}: ${decoded.error.message}`);
      return Pipelined.answered(undefined);
    }
    if (!decoded.ok) return Pipelined.answered(this.reject(payload, topicAgent, decoded.error.message));
    const { batch, skipped } = decoded.value;
    if (skipped.length > 0) {
      counters.inc('windows_invalid', skipped.length);
      this.o.problems.note('invalid_window', `agent ${batch.agent} seq ${batch.seq}: ${skipped.length} window(s) skipped, e.g. windows[${skipped[0]!.index}]: ${skipped[0]!.reason}`);
    }
    if (topicAgent !== undefined && batch.agent !== topicAgent) return Pipelined.answered(this.reject(payload, topicAgent, `batch says agent ${batch.agent} but came on the topic of ${topicAgent}`));
    const duplicate: Ack = { v: 1, agent: batch.agent, epoch: batch.epoch, seq: batch.seq, status: 'duplicate' };
    if (this.o.dedupe.seen(batch.agent, batch.epoch, batch.seq)) {
      counters.inc('batches_duplicate');
      return Pipelined.answered(duplicate);
    }
    const key = `${batch.agent}\u0000${batch.epoch}\u0000${batch.seq}`;
    const original = this.writing.get(key);
    if (original) {
      counters.inc('batches_duplicate');
      // One copy waits for the original's outcome (an HTTP resend needs the ack as its answer);
      // further copies get none and are sent again later, so resends during a long write
      // cannot pile up waiters. A waiter holds the ack, not the decoded batch.
      if (original.copyWaiting) return Pipelined.answered(undefined);
      original.copyWaiting = true;
      const { agent, seq } = batch;
      return new Pipelined(
        Promise.resolve(),
        original.done.then((wasWritten) => {
          original.copyWaiting = false;
          if (!wasWritten) throw new Error(`batch ${agent}/${seq} was not written: stopping`);
          return duplicate;
        }),
      );
    }

    const alerts = this.detect(batch);
    const lines = this.encoder.batch(batch, alerts);
    const written = this.o.writer.write(lines);
    void written.catch(() => undefined); // awaited below, after the batches before this one
    const previous = this.tail;
    const ack = (async (): Promise<Ack> => {
      await previous;
      const report = await written;
      const untrackable = this.o.dedupe.untrackable(batch.agent, batch.epoch, batch.seq, Date.now());
      if (untrackable === undefined) this.o.dedupe.add(batch.agent, batch.epoch, batch.seq);
      else {
        counters.inc('batches_untracked');
        this.o.problems.note('batch_untracked', `agent ${batch.agent}: ${untrackable}; written, not tracked for duplicates`);
      }
      counters.inc('batches_written');
      counters.inc('windows_written', batch.windows.length);
      counters.inc('points_written', lines.length - report.deadLettered - report.dropped);
      for (const alert of alerts) this.o.onAlert(alert);
      return { v: 1, agent: batch.agent, epoch: batch.epoch, seq: batch.seq, status: 'ok' };
    })();
    const done = ack.then(
      () => true,
      () => false,
    );
    this.tail = done;
    this.writing.set(key, { done, copyWaiting: false });
    void done.then(() => this.writing.delete(key));
    return new Pipelined(this.o.writer.room(), ack);
  }

  /** Runs every first emission of a window through detection (corrections are not news). */
  private detect(batch: BatchEnvelope): AlertEvent[] {
    const points: SeriesInput[] = [];
    for (const w of batch.windows) {
      if (w.rev !== 0) continue;
      points.push({ device: w.device, metric: w.metric, ts: w.end, lengthMs: w.end - w.start, value: w.mean, min: w.min, max: w.max, stddev: windowStddev(w), count: w.count, first: w.first, last: w.last, outOfRange: w.outOfRange ?? 0 });
    }
    // Silence is judged up to the watermark only when no earlier batch is still missing. A batch
    // without one says nothing about completeness: the agent keeps event time per device, so its
    // newest window end (detection's guess without a watermark) may be a fast device's, ahead of
    // the other devices' windows still to come.
    const inOrder = this.order.see(batch.agent, batch.epoch, batch.seq);
    const alerts = this.o.detection.ingest(batch.agent, points, inOrder ? (batch.watermark ?? -Infinity) : -Infinity);
    for (const a of alerts) this.o.counters.inc(a.state === 'opened' ? 'alerts_opened' : a.state === 'updated' ? 'alerts_updated' : 'alerts_resolved');
    return alerts;
  }

  /** Counts and reports an invalid batch; acks it as rejected when its agent and seq are known. */
  private reject(payload: Uint8Array, topicAgent: string | undefined, reason: string): Ack | undefined {
    this.o.counters.inc('batches_invalid');
    this.o.problems.note('invalid_batch', `${topicAgent ?? 'unknown agent'}: ${reason}`);
    if (topicAgent === undefined || !AGENT_ID_PATTERN.test(topicAgent)) return undefined;
    const ids = envelopeIds(payload);
    if (ids === undefined) return undefined;
    return { v: 1, agent: topicAgent, ...(ids.epoch === undefined ? {} : { epoch: ids.epoch }), seq: ids.seq, status: 'rejected', reason: reason.slice(0, 500) };
  }
}

/** Bytes of a payload searched for its envelope's seq and epoch: they come before the windows. */
const ENVELOPE_PREFIX_BYTES = 4096;

/**
 * The `seq` and `epoch` of a batch that failed validation (or is too large to parse), read from
 * the start of its envelope — before `"windows"`, so no window's content can pose as them — so it
 * can be acked as rejected instead of being sent again forever.
 */
export function envelopeIds(payload: Uint8Array): { seq: number; epoch: number | undefined } | undefined {
  const head = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, ENVELOPE_PREFIX_BYTES)).toString('utf8');
  const envelope = head.split('"windows"')[0]!;
  const seq = /"seq"\s*:\s*(\d{1,16})\b/.exec(envelope);
  const epoch = /"epoch"\s*:\s*(\d{1,16})\b/.exec(envelope);
  const n = seq ? Number(seq[1]) : NaN;
  return Number.isSafeInteger(n) ? { seq: n, epoch: epoch ? Number(epoch[1]) : undefined } : undefined;
}
