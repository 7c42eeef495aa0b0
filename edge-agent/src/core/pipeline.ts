import {
  decodeSerialLine,
  decodeTelemetry,
  type Clock,
  type Counters,
  type DecodeError,
  type ProblemReport,
  type Telemetry,
} from '@tributary/firmware-schemas';
import type { FilterChains } from './filters/registry.js';
import type { AddOutcome, WindowEngine } from './window-engine.js';

/** Every counter of the agent, with its help text (Prometheus `# HELP`). */
export const agentCounterHelp = {
  messages_received: 'telemetry messages and serial lines received from sources',
  messages_invalid: 'messages skipped because they could not be decoded or validated',
  invalid_too_large: 'messages skipped: payload over the size limit',
  invalid_bad_json: 'messages skipped: not JSON',
  invalid_schema: 'messages skipped: schema violation',
  invalid_bad_id: 'messages skipped: device id with forbidden characters',
  invalid_framing: 'serial lines skipped: framing error (truncated, garbage, over-long)',
  invalid_checksum: 'serial lines skipped: checksum mismatch',
  readings_received: 'readings in valid messages (one per metric value)',
  readings_filtered: 'readings removed by pre-filters',
  readings_future: 'readings rejected: timestamp too far ahead of the agent clock',
  readings_late: 'readings dropped: later than the watermark',
  readings_too_late: 'readings dropped: later than the correction horizon',
  readings_corrected: 'late readings added to an emitted window, which was re-emitted',
  readings_series_limit: 'readings dropped: new series over maxSeries',
  readings_pane_limit: 'readings dropped: series over maxPanesPerSeries',
  readings_accepted: 'readings accepted into windows',
  series_evicted: 'series evicted (least recently updated) to make room',
  windows_emitted: 'window results emitted (including corrections)',
  batches_sealed: 'batches sealed and queued for the uplink',
  batches_sent: 'batch publishes, resends included',
  batches_resent: 'batch publishes that were resends',
  batches_acked: 'batches acknowledged by the cloud as written',
  batches_duplicate: 'batches the cloud reported as already written',
  batches_rejected: 'batches the cloud rejected as invalid',
  batches_dropped: 'batches dropped at the spool bound',
  readings_dropped: 'readings inside batches dropped at the spool bound',
  batches_dropped_unsent: 'of the dropped batches, those never sent: certainly lost',
  readings_dropped_unsent: 'readings inside dropped batches that were never sent: certainly lost',
  spool_torn_records: 'damaged spool records found and skipped at start (torn writes)',
} as const;

export type AgentCounter = keyof typeof agentCounterHelp;

const outcomeCounter: Record<Exclude<AddOutcome, 'accepted'>, AgentCounter> = {
  corrected: 'readings_corrected',
  late: 'readings_late',
  'too-late': 'readings_too_late',
  'series-limit': 'readings_series_limit',
  'pane-limit': 'readings_pane_limit',
};

export interface PipelineOptions {
  readonly filters: FilterChains;
  readonly windows: WindowEngine;
  readonly clock: Clock;
  readonly maxFutureMs: number;
  readonly counters: Counters<AgentCounter>;
  readonly problems: ProblemReport;
}

/**
 * decode → validate → pre-filter → window, for every source. Pure apart from the counters and the
 * problem report it is given: nothing here logs, throws on bad input or touches a socket.
 */
export class IngestPipeline {
  constructor(private readonly o: PipelineOptions) {}

  /** One MQTT telemetry payload. `source` names where it came from, for the problem report. */
  ingestJson(payload: string | Uint8Array, maxBytes: number, source: string): void {
    this.o.counters.inc('messages_received');
    const r = decodeTelemetry(payload, maxBytes);
    if (r.ok) this.ingestTelemetry(r.value);
    else this.invalid(r.error, source);
  }

  /** One serial line (CR LF optional). */
  ingestSerialLine(line: string, source: string): void {
    this.o.counters.inc('messages_received');
    const r = decodeSerialLine(line);
    if (r.ok) this.ingestTelemetry(r.value);
    else this.invalid(r.error, source);
  }

  /** A line whose framing failed before it could be decoded (over-long, garbage). */
  framingError(message: string, source: string): void {
    this.o.counters.inc('messages_received');
    this.invalid({ code: 'framing', message }, source);
  }

  ingestTelemetry(t: Telemetry): void {
    const { counters, clock } = this.o;
    const now = clock.now();
    // Devices without a clock get arrival time (DESIGN.md, "Event time").
    const ts = t.ts ?? now;
    const values = t.values;
    for (const metric in values) {
      counters.inc('readings_received');
      const value = values[metric]!;
      if (ts > now + this.o.maxFutureMs) {
        // Must not reach the windows: it would push the watermark and make everyone else late.
        counters.inc('readings_future');
        this.o.problems.note('future_timestamp', `device ${JSON.stringify(t.device)} ts ${ts} is ${ts - now} ms ahead of the agent clock`);
        continue;
      }
      if (!this.passesFilters(t.device, metric, ts, value, t.seq)) continue;
      const outcome = this.o.windows.add(t.device, metric, ts, value);
      if (outcome === 'accepted' || outcome === 'corrected') counters.inc('readings_accepted');
      if (outcome !== 'accepted') counters.inc(outcomeCounter[outcome]);
    }
  }

  private passesFilters(device: string, metric: string, ts: number, value: number, seq: number | undefined): boolean {
    const chain = this.o.filters.forMetric(metric);
    if (chain.length === 0) return true;
    const reading = { device, metric, ts, value, seq };
    for (const filter of chain) {
      if (!filter.keep(reading)) {
        this.o.counters.inc('readings_filtered');
        return false;
      }
    }
    return true;
  }

  private invalid(error: DecodeError, source: string): void {
    this.o.counters.inc('messages_invalid');
    this.o.counters.inc(`invalid_${error.code}`);
    this.o.problems.note(`invalid_${error.code}`, `${source}: ${error.message}`);
  }
}
