import {
  AGENT_ID_PATTERN,
  decodeBatch,
  type Ack,
  type AlertEvent,
  type BatchEnvelope,
  type Counters,
  type ProblemReport,
} from '@tributary/firmware-schemas';
import type { IPoint } from 'influx';
import type { CloudCounter } from './counters.js';
import type { Dedupe } from './dedupe.js';
import { agentStatsPoint, anomalyPoint, windowPoint, windowStddev } from './influx/points.js';
import { PermanentWriteError, type InfluxWriter } from './influx/writer.js';
import type { Detection, SeriesInput } from './detection.js';

export interface BatchProcessorOptions {
  readonly maxBatchBytes: number;
  readonly dedupe: Dedupe;
  readonly detection: Detection;
  readonly writer: InfluxWriter;
  readonly counters: Counters<CloudCounter>;
  readonly problems: ProblemReport;
  /** Called for every alert transition once its batch is durable (MQTT, log, API). */
  readonly onAlert: (alert: AlertEvent) => void;
}

/**
 * validate → dedupe (agent, seq) → detect → write (windows, agent stats, anomalies) → ack.
 * Transport-independent: MQTT ingest publishes the returned ack, HTTP ingest answers with it.
 * The ack `ok` is returned only after InfluxDB accepted every point of the batch.
 */
export class BatchProcessor {
  constructor(private readonly o: BatchProcessorOptions) {}

  /**
   * Handles one batch payload. `topicAgent` is the agent the transport says it came from.
   * Returns the ack to send, or undefined when there is no one to ack (agent unknown).
   * Rejects only with WriteAbortedError, when the processor stops before the write succeeded.
   */
  async process(payload: Uint8Array, topicAgent: string | undefined): Promise<Ack | undefined> {
    const { counters } = this.o;
    counters.inc('batches_received');
    const decoded = decodeBatch(payload, this.o.maxBatchBytes);
    if (!decoded.ok) return this.reject(payload, topicAgent, decoded.error.message);
    const batch = decoded.value;
    if (topicAgent !== undefined && batch.agent !== topicAgent) return this.reject(payload, topicAgent, `batch says agent ${batch.agent} but came on the topic of ${topicAgent}`);
    if (this.o.dedupe.seen(batch.agent, batch.epoch, batch.seq)) {
      counters.inc('batches_duplicate');
      return { v: 1, agent: batch.agent, seq: batch.seq, status: 'duplicate' };
    }
    const alerts = this.detect(batch);
    const points: IPoint[] = batch.windows.map((w) => {
      this.o.writer.registerMetric(w.metric);
      return windowPoint(batch, w);
    });
    points.push(agentStatsPoint(batch));
    for (const alert of alerts) points.push(anomalyPoint(alert));
    try {
      await this.o.writer.writeDurably(points);
    } catch (err) {
      if (!(err instanceof PermanentWriteError)) throw err;
      counters.inc('batches_refused');
      this.o.problems.note('influx_refused', `agent ${batch.agent} seq ${batch.seq}: ${err.message}`);
      return { v: 1, agent: batch.agent, seq: batch.seq, status: 'rejected', reason: err.message.slice(0, 500) };
    }
    this.o.dedupe.add(batch.agent, batch.epoch, batch.seq);
    counters.inc('batches_written');
    counters.inc('windows_written', batch.windows.length);
    counters.inc('points_written', points.length);
    for (const alert of alerts) this.o.onAlert(alert);
    return { v: 1, agent: batch.agent, seq: batch.seq, status: 'ok' };
  }

  /** Runs every first emission of a window through detection (corrections are not news). */
  private detect(batch: BatchEnvelope): AlertEvent[] {
    const points: SeriesInput[] = [];
    for (const w of batch.windows) {
      if (w.rev !== 0) continue;
      points.push({ device: w.device, metric: w.metric, ts: w.end, lengthMs: w.end - w.start, value: w.mean, min: w.min, max: w.max, stddev: windowStddev(w), count: w.count, first: w.first, last: w.last, outOfRange: w.outOfRange ?? 0 });
    }
    const alerts = this.o.detection.ingest(batch.agent, points, batch.watermark);
    for (const a of alerts) this.o.counters.inc(a.state === 'opened' ? 'alerts_opened' : a.state === 'updated' ? 'alerts_updated' : 'alerts_resolved');
    return alerts;
  }

  /** Counts and reports an invalid batch; acks it as rejected when its agent and seq are known. */
  private reject(payload: Uint8Array, topicAgent: string | undefined, reason: string): Ack | undefined {
    this.o.counters.inc('batches_invalid');
    this.o.problems.note('invalid_batch', `${topicAgent ?? 'unknown agent'}: ${reason}`);
    if (topicAgent === undefined || !AGENT_ID_PATTERN.test(topicAgent)) return undefined;
    const seq = payload.byteLength <= this.o.maxBatchBytes ? seqOf(payload) : undefined;
    return seq === undefined ? undefined : { v: 1, agent: topicAgent, seq, status: 'rejected', reason: reason.slice(0, 500) };
  }
}

/** The `seq` of a payload that failed validation, if it is there and sane, so it can be acked. */
function seqOf(payload: Uint8Array): number | undefined {
  try {
    const seq = (JSON.parse(Buffer.from(payload).toString('utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
  } catch {
    return undefined;
  }
}
