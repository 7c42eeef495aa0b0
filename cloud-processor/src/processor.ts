import {
  AGENT_ID_PATTERN,
  decodeBatchTolerant,
  type Ack,
  type AlertEvent,
  type BatchEnvelope,
} from '@tributary/firmware-schemas';
import type { Counters, LatencyObserver, ProblemReport } from '@tributary/runtime';
import type { CloudCounter } from './counters.js';
import type { Dedupe } from './state/dedupe.js';
import type { DeadLetterFile } from './influx/dead-letter.js';
import { WriteAbortedError } from './influx/errors.js';
import { PointEncoder, windowInput, type Lines, type UnencodablePoint } from '@tributary/storage';
import type { WriteReport } from './influx/requests.js';
import { ForeignAgentError, Pipelined } from './ingest/intake.js';
import type { DetectionRunner } from './detect/detection-runner.js';
import type { SeriesInput } from './detect/detection.js';
import type { JudgedWindows } from './state/judged-windows.js';
import { SeqOrder } from './state/seq-order.js';
import type { WrittenBatch } from './dashboard/fleet-view.js';

/** The writer as the processor uses it (InfluxWriter). */
export interface PointSink {
  /** Resolves when every line is durable (or dead-lettered); rejects with WriteAbortedError on stop. */
  write(lines: Lines): Promise<WriteReport>;
  /** Resolves when the write backlog has room for more. */
  room(): Promise<void>;
}

export interface BatchProcessorOptions {
  readonly maxBatchBytes: number;
  readonly dedupe: Dedupe;
  readonly detection: DetectionRunner;
  readonly writer: PointSink;
  readonly counters: Counters<CloudCounter>;
  readonly problems: ProblemReport;
  /** Encodes the points (with the unit tags of `influx.units`); one without units by default. */
  readonly encoder?: PointEncoder;
  /** The first emissions detection judged, for their corrections' points (storage's JUDGED_FIELD). */
  readonly judged?: JudgedWindows;
  /** Keeps the points that cannot be encoded, and the batches whose processing failed. */
  readonly deadLetter: Pick<DeadLetterFile, 'appendEntries' | 'path'>;
  /** Called for every alert transition once its batch is durable (MQTT, log, API). */
  readonly onAlert: (alert: AlertEvent) => void;
  /**
   * Called when a written batch starts a dedupe stream apart from its agent's others (a seq far
   * from them, or a new epoch), with what happened, naming the agent and seqs: lost batches, or
   * someone posting as the agent. Logged as an error.
   */
  readonly onTrackedApart: (what: string) => void;
  /** Called with every batch once it is durable, before its alerts (the dashboard's fleet view). */
  readonly onWritten?: (batch: WrittenBatch) => void;
  /** Latency as users see it, measured on the processor's wall clock (`now`, Date.now by default). */
  readonly latency?: ProcessorLatency;
  readonly now?: () => number;
}

/**
 * Seconds from event time to what a user sees. Event time is the agent's clock: a window ending
 * "in the future" (an agent clock ahead of ours) counts as 0.
 */
export interface ProcessorLatency {
  /** Per first emission of a window: from its end to the moment its batch is durable. */
  readonly windowDurable: LatencyObserver;
  /** Per alert opened: from the end of the window that opened it to the alert going out. */
  readonly alertOpened: LatencyObserver;
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
 *
 * Nothing a batch holds can make it a silent, endless resend: a point that cannot be encoded goes
 * to the dead-letter file with the reason (`points_unencodable`) and the rest of the batch is
 * written and acked; when detection throws, the points are written without its alerts
 * (`batches_detection_failed`); any other exception dead-letters the batch as it arrived and acks
 * it `rejected` (`batches_failed`). Each is reported once per interval at warning level.
 */
export class BatchProcessor {
  private readonly encoder: PointEncoder;
  /** Batches being written, by agent, epoch and seq: whether they were written, and whether a copy waits for that. */
  private readonly writing = new Map<string, { readonly done: Promise<boolean>; copyWaiting: boolean }>();
  /** Settles when the latest batch has finished; each batch finishes after the one before. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly order = new SeqOrder();

  constructor(private readonly o: BatchProcessorOptions) {
    this.encoder = o.encoder ?? new PointEncoder();
  }

  /**
   * Handles one batch payload. `topicAgent` is the agent the transport says it came from. The ack
   * is undefined when there is no one to ack (agent unknown); it rejects with ForeignAgentError
   * when the batch names another agent than `topicAgent`, and with WriteAbortedError when the
   * processor stops before the batch was durable.
   */
  process(payload: Uint8Array, topicAgent: string | undefined): Pipelined {
    try {
      return this.take(payload, topicAgent);
    } catch (err) {
      return this.failed(payload, topicAgent, err);
    }
  }

  private take(payload: Uint8Array, topicAgent: string | undefined): Pipelined {
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
      this.o.problems.note(
        'invalid_window',
        `agent ${batch.agent} seq ${batch.seq}: ${skipped.length} window(s) skipped, e.g. windows[${skipped[0]!.index}]: ${skipped[0]!.reason}`,
      );
    }
    if (topicAgent !== undefined && batch.agent !== topicAgent) {
      const ack = this.reject(payload, topicAgent, `batch says agent ${batch.agent} but came as ${topicAgent}`);
      return new Pipelined(Promise.resolve(), Promise.reject(new ForeignAgentError(batch.agent, topicAgent, ack)));
    }
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
      return new Pipelined(
        Promise.resolve(),
        original.done.then((wasWritten) => {
          original.copyWaiting = false;
          if (!wasWritten) throw new Error(`batch ${duplicate.agent}/${duplicate.seq} was not written: stopping`);
          return duplicate;
        }),
      );
    }

    // Detection runs beside the write (in worker threads, or done already): the windows are
    // written at once, the anomaly points the batch raises when its alerts are known.
    const detected = this.detectOrSkip(batch);
    // No closure of this function may capture `batch` (V8 keeps one context for all of them).
    const agent = batch.agent;
    const { lines, unencodable } = this.encoder.batchBytes(batch, (w) => this.judgedOf(agent, w));
    const written = this.o.writer.write(lines);
    void written.catch(() => undefined); // awaited below, after the batches before this one
    const parked = this.park(unencodable);
    // From here on the batch is only this summary: its windows are encoded and handed to detection,
    // and a batch in flight (influx.maxBufferedLines and maxBufferedBytes bound them) must not hold its decoded windows
    // or its lines (the writer keeps them as bytes) until it is acked.
    const held = heldOf(batch, lines.length, this.o.latency !== undefined);
    const anomalies = detected.then((alerts) => {
      const encoded = this.encoder.anomalies(held, alerts);
      const write = encoded.lines.length === 0 ? NOTHING_WRITTEN : this.o.writer.write(encoded.lines);
      void write.catch(() => undefined);
      return { alerts, lines: encoded.lines.length, written: write, parked: this.park(encoded.unencodable) };
    });
    const previous = this.tail;
    const ack = this.acked(held, previous, written, parked, anomalies);
    const done = ack.then(
      () => true,
      () => false,
    );
    this.tail = done;
    this.writing.set(key, { done, copyWaiting: false });
    void done.then(() => this.writing.delete(key));
    // The next batch starts when the writer's backlog and detection's queue both have room.
    const roomForDetection = this.o.detection.room();
    const roomForLines = this.o.writer.room();
    return new Pipelined(
      roomForDetection === roomForLines
        ? roomForLines
        : Promise.all([roomForLines, roomForDetection]).then(() => undefined),
      ack,
    );
  }

  /**
   * Once the batches before it have finished and every point of it is durable: records the batch
   * in dedupe, counts it, and lets its observers and alerts go; gives its `ok` ack. Rejects (the
   * batch stays unacked) when stopping, or on a bug, counted and reported.
   */
  private async acked(
    batch: HeldBatch,
    previous: Promise<unknown>,
    written: Promise<WriteReport>,
    parked: Promise<void>,
    anomalies: Promise<{ alerts: AlertEvent[]; lines: number; written: Promise<WriteReport>; parked: Promise<void> }>,
  ): Promise<Ack> {
    const { counters } = this.o;
    try {
      await previous;
      const report = await written;
      await parked;
      const raised = await anomalies;
      const anomalyReport = await raised.written;
      await raised.parked;
      const apart = this.o.dedupe.add(batch.agent, batch.epoch, batch.seq);
      if (apart !== undefined) {
        counters.inc('batches_tracked_apart');
        this.o.onTrackedApart(`agent ${batch.agent}: ${apart}; written, and tracked apart from its other seqs`);
      }
      counters.inc('batches_written');
      counters.inc('windows_written', batch.windows);
      counters.inc(
        'points_written',
        batch.lines +
          raised.lines -
          report.deadLettered -
          report.dropped -
          anomalyReport.deadLettered -
          anomalyReport.dropped,
      );
      // The batch is durable now: its windows, its anomaly points, and every batch before it.
      const now = (this.o.now ?? Date.now)();
      const latency = this.o.latency;
      if (latency)
        for (const end of batch.firstEmissionEnds) latency.windowDurable.observe(Math.max(0, now - end) / 1000);
      this.o.onWritten?.(batch);
      for (const alert of raised.alerts) {
        if (latency && alert.state === 'opened') latency.alertOpened.observe(Math.max(0, now - alert.at) / 1000);
        this.o.onAlert(alert);
      }
      return { v: 1, agent: batch.agent, epoch: batch.epoch, seq: batch.seq, status: 'ok' };
    } catch (err) {
      // Stopping leaves the batch unacked on purpose; anything else is a bug, and must be heard.
      if (!(err instanceof WriteAbortedError)) {
        counters.inc('batches_failed');
        this.o.problems.note(
          'batch_failed',
          `agent ${batch.agent} seq ${batch.seq}: ${messageOf(err)}; left unacked, the agent sends it again`,
        );
      }
      throw err;
    }
  }

  /**
   * Detection's alerts for the batch; none when it fails (a bug, or a detection worker that
   * died), and its points are written all the same.
   */
  private detectOrSkip(batch: BatchEnvelope): Promise<AlertEvent[]> {
    const { agent, seq } = batch; // not the batch: the closures below live until detection answers
    const failed = (err: unknown): AlertEvent[] => {
      this.o.counters.inc('batches_detection_failed');
      this.o.problems.note(
        'detection_failed',
        `agent ${agent} seq ${seq}: ${messageOf(err)}; its points are written without alerts`,
      );
      return [];
    };
    try {
      return this.detect(batch).then((alerts) => {
        for (const a of alerts)
          this.o.counters.inc(
            a.state === 'opened' ? 'alerts_opened' : a.state === 'updated' ? 'alerts_updated' : 'alerts_resolved',
          );
        return alerts;
      }, failed);
    } catch (err) {
      return Promise.resolve(failed(err));
    }
  }

  /**
   * Puts the points that could not be encoded in the dead-letter file, counted and reported with
   * whose they are. Resolves once they are durable, or counted as dropped when the file is full or
   * cannot be written: either way their batch is acked, so one odd point never holds up the rest.
   */
  private park(unencodable: readonly UnencodablePoint[]): Promise<void> {
    if (unencodable.length === 0) return Promise.resolve();
    const { counters, problems, deadLetter } = this.o;
    counters.inc('points_unencodable', unencodable.length);
    for (const u of unencodable)
      problems.note('point_unencodable', `${u.series}: ${u.reason}; in the dead-letter file`);
    const lost = (n: number, why: string): void => {
      counters.inc('points_dead_letter_dropped', n);
      problems.note(
        'dead_letter_dropped',
        `${n} unencodable point(s) not kept (${why}), e.g. ${unencodable[0]!.series}`,
      );
    };
    return deadLetter.appendEntries(unencodable.map((u) => ({ reason: u.reason, point: u.point }))).then(
      ({ dropped }) => {
        if (dropped > 0) lost(dropped, `${deadLetter.path} is full`);
      },
      (err: unknown) => lost(unencodable.length, `${deadLetter.path}: ${messageOf(err)}`),
    );
  }

  /**
   * A batch whose processing threw (a bug: decoders return errors and encoding fails point by
   * point): counted and reported, kept as it arrived in the dead-letter file, then acked
   * `rejected` so the agent stops sending it. Left unacked only when the file cannot take it.
   */
  private failed(payload: Uint8Array, topicAgent: string | undefined, err: unknown): Pipelined {
    const reason = `processing failed: ${messageOf(err)}`;
    const who = `${topicAgent ?? 'unknown agent'} seq ${envelopeIds(payload)?.seq ?? 'unknown'}`;
    this.o.counters.inc('batches_failed');
    this.o.problems.note('batch_failed', `${who}: ${reason}`);
    const { deadLetter } = this.o;
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
    const ack = deadLetter.appendEntries([{ reason, batch: text }]).then(
      ({ kept }) => {
        if (kept > 0) return rejectedAck(payload, topicAgent, `${reason}; kept in the processor's dead-letter file`);
        this.o.problems.note(
          'dead_letter_dropped',
          `${who}: ${deadLetter.path} is full; the failed batch stays unacked`,
        );
        return undefined;
      },
      (e: unknown) => {
        this.o.problems.note(
          'dead_letter_dropped',
          `${who}: ${deadLetter.path}: ${messageOf(e)}; the failed batch stays unacked`,
        );
        return undefined;
      },
    );
    return new Pipelined(Promise.resolve(), ack);
  }

  /**
   * Runs every first emission of a window through detection. Corrections are not news: by the time
   * one arrives its series has been judged past it; its point keeps what was judged (judgedOf).
   */
  private detect(batch: BatchEnvelope): Promise<AlertEvent[]> {
    const points: SeriesInput[] = [];
    for (const w of batch.windows) {
      if (w.rev !== 0) continue;
      const input = windowInput(w);
      points.push(input);
      this.o.judged?.remember(batch.agent, input);
    }
    // Silence is judged up to the watermark only when no earlier batch is still missing. A batch
    // without one says nothing about completeness: the agent keeps event time per device, so its
    // newest window end (detection's guess without a watermark) may be a fast device's, ahead of
    // the other devices' windows still to come.
    const inOrder = this.order.see(batch.agent, batch.epoch, batch.seq);
    return this.o.detection.ingest(batch.agent, points, inOrder ? (batch.watermark ?? -Infinity) : -Infinity);
  }

  /** For a correction: the input detection judged at the window's first emission, if still remembered. */
  private judgedOf(agent: string, w: BatchEnvelope['windows'][number]): SeriesInput | undefined {
    const judged = this.o.judged?.judged(agent, w);
    if (judged === undefined && w.rev === 1) {
      this.o.counters.inc('corrections_unjudged');
      this.o.problems.note(
        'correction_unjudged',
        `agent ${agent} device ${JSON.stringify(w.device)} metric ${w.metric} window ending ${new Date(w.end).toISOString()}: its first emission is no longer remembered (detection.maxJudgedWindows); stored without the judged values`,
      );
    }
    return judged;
  }

  /** Counts and reports an invalid batch; acks it as rejected when its agent and seq are known. */
  private reject(payload: Uint8Array, topicAgent: string | undefined, reason: string): Ack | undefined {
    this.o.counters.inc('batches_invalid');
    this.o.problems.note('invalid_batch', `${topicAgent ?? 'unknown agent'}: ${reason}`);
    return rejectedAck(payload, topicAgent, reason);
  }
}

/** A `rejected` ack for a batch, when its agent (as the transport says) and its envelope's seq are known. */
function rejectedAck(payload: Uint8Array, topicAgent: string | undefined, reason: string): Ack | undefined {
  if (topicAgent === undefined || !AGENT_ID_PATTERN.test(topicAgent)) return undefined;
  const ids = envelopeIds(payload);
  if (ids === undefined) return undefined;
  return {
    v: 1,
    agent: topicAgent,
    ...(ids.epoch === undefined ? {} : { epoch: ids.epoch }),
    seq: ids.seq,
    status: 'rejected',
    reason: reason.slice(0, 500),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a batch in flight keeps until its ack: the envelope's ids and counters, no windows. */
interface HeldBatch extends WrittenBatch {
  readonly epoch: number;
  /** Windows in the batch, and lines its windows and agent stats were encoded to. */
  readonly windows: number;
  readonly lines: number;
  /** The end of each first emission (rev 0), for the latency histogram; empty without one. */
  readonly firstEmissionEnds: Float64Array;
}

const NO_ENDS = new Float64Array(0);

function heldOf(batch: BatchEnvelope, lines: number, withEnds: boolean): HeldBatch {
  let ends = NO_ENDS;
  if (withEnds) {
    let n = 0;
    for (const w of batch.windows) if (w.rev === 0) n++;
    ends = new Float64Array(n);
    n = 0;
    for (const w of batch.windows) if (w.rev === 0) ends[n++] = w.end;
  }
  const { agent, epoch, seq, site, sentAt, counters } = batch;
  return { agent, epoch, seq, site, sentAt, counters, windows: batch.windows.length, lines, firstEmissionEnds: ends };
}

/** What an empty write reports. */
const NOTHING_WRITTEN: Promise<WriteReport> = Promise.resolve({ deadLettered: 0, dropped: 0 });

/** Bytes of a payload searched for its envelope's seq and epoch: they come before the windows. */
const ENVELOPE_PREFIX_BYTES = 4096;

/**
 * The `seq` and `epoch` of a batch that failed validation (or is too large to parse), read from
 * the start of its envelope — before `"windows"`, so no window's content can pose as them — so it
 * can be acked as rejected instead of being sent again forever.
 */
export function envelopeIds(payload: Uint8Array): { seq: number; epoch: number | undefined } | undefined {
  const head = Buffer.from(
    payload.buffer,
    payload.byteOffset,
    Math.min(payload.byteLength, ENVELOPE_PREFIX_BYTES),
  ).toString('utf8');
  const envelope = head.split('"windows"')[0]!;
  const seq = /"seq"\s*:\s*(\d{1,16})\b/.exec(envelope);
  const epoch = /"epoch"\s*:\s*(\d{1,16})\b/.exec(envelope);
  const n = seq ? Number(seq[1]) : NaN;
  return Number.isSafeInteger(n) ? { seq: n, epoch: epoch ? Number(epoch[1]) : undefined } : undefined;
}
