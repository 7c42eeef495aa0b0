import {
  decodeSerialLine,
  decodeTelemetry,
  type AgentConfig,
  type DecodeError,
  type Telemetry,
  type WindowResult,
} from '@tributary/firmware-schemas';
import type { Clock, Counters, ProblemReport } from '@tributary/runtime';
import type { AgentCounter } from './counters.js';
import type { ReadingFilter } from './filters/filter.js';
import { FilterChains } from './filters/registry.js';
import type { AddOutcome, WindowEngine, WindowSink } from './window-engine.js';

export { agentCounterHelp, type AgentCounter } from './counters.js';

const outcomeCounter: Record<Exclude<AddOutcome, 'accepted'>, AgentCounter> = {
  corrected: 'readings_corrected',
  late: 'readings_late',
  'too-late': 'readings_too_late',
  'series-limit': 'readings_series_limit',
  'pane-limit': 'readings_pane_limit',
  'evicted-window': 'readings_evicted_window',
};

const filterCounter: Record<ReadingFilter['kind'], AgentCounter> = {
  range: 'filtered_range',
  deadband: 'filtered_deadband',
  'rate-limit': 'filtered_rate_limit',
  dedupe: 'filtered_dedupe',
  spike: 'filtered_spike',
};

/** Where accepted readings are recorded before their source is acknowledged: the receiver write-ahead log (wal/). */
export interface ReadingLog {
  /** One reading the windows took (accepted or corrected). `origin` is the message's (see `ingestJson`). */
  accepted(device: string, metric: string, ts: number, value: number, now: number, origin: number): void;
  /** One reading the range filter removed that an open window counted (`noteOutOfRange`): its value is not needed. */
  outOfRange(device: string, metric: string, ts: number, now: number, origin: number): void;
}

/** Messages the log already holds: a broker's redelivery of one after a crash must not count twice. */
export interface LoggedMessages {
  has(origin: number, t: Telemetry): boolean;
}

export interface PipelineOptions {
  readonly filters: FilterChains;
  readonly windows: WindowEngine;
  readonly clock: Clock;
  readonly maxFutureMs: number;
  /** Messages per second let in before decoding; undefined for no limit. */
  readonly maxMessagesPerS?: number | undefined;
  readonly burstMessages?: number;
  readonly counters: Counters<AgentCounter>;
  readonly problems: ProblemReport;
  readonly log?: ReadingLog | undefined;
  readonly logged?: LoggedMessages | undefined;
}

/** A message's identity for its broker: which MQTT source (its index) and its packet id. */
export function messageOrigin(sourceIndex: number, packetId: number): number {
  return (sourceIndex + 1) * 65_536 + packetId;
}

/** The pipeline `config` describes around `units`: its filters (counting state forgotten at their bounds) and intake limits. */
export function ingestPipelineOptions(
  config: AgentConfig,
  units: Omit<PipelineOptions, 'filters' | 'maxFutureMs' | 'maxMessagesPerS' | 'burstMessages'>,
): PipelineOptions {
  return {
    ...units,
    filters: new FilterChains(config.filters, { stateEvicted: () => units.counters.inc('filter_state_evicted') }),
    maxFutureMs: config.windows.maxFutureMs,
    maxMessagesPerS: config.intake.maxMessagesPerS,
    burstMessages: config.intake.burstMessages,
  };
}

/** The window engine's events, counted (series evicted, windows of out-of-range readings only, device clocks forgotten); its windows go to `window`. */
export function countedWindowSink(counters: Counters<AgentCounter>, window: (w: WindowResult) => void): WindowSink {
  return {
    window,
    evicted: () => counters.inc('series_evicted'),
    outOfRangeOnly: () => counters.inc('windows_out_of_range_only'),
    deviceForgotten: () => counters.inc('device_clocks_forgotten'),
  };
}

/**
 * decode → validate → pre-filter → window, for every source. Pure apart from the counters and the
 * problem report it is given: nothing here logs, throws on bad input or touches a socket.
 */
export class IngestPipeline {
  private tokens: number;
  private tokensAt = -Infinity;
  private readonly perMs: number;
  private readonly burst: number;
  /** A device stamping readings further ahead of the agent clock than this is named in the log. */
  private readonly aheadMs: number;

  constructor(private readonly o: PipelineOptions) {
    this.perMs = o.maxMessagesPerS === undefined ? Infinity : o.maxMessagesPerS / 1000;
    this.burst = o.burstMessages ?? 1_000;
    this.tokens = this.burst;
    this.aheadMs = o.windows.allowedLatenessMs;
  }

  /**
   * One MQTT telemetry payload (or JSON line). `source` names where it came from, for the problem
   * report. `origin` identifies a message its broker re-delivers until acknowledged (an MQTT QoS 1
   * source's index and packet id, see `messageOrigin`), else 0; `redelivered` is MQTT's DUP flag.
   */
  ingestJson(payload: string | Uint8Array, maxBytes: number, source: string, origin = 0, redelivered = false): void {
    if (!this.admit()) return;
    const r = decodeTelemetry(payload, maxBytes);
    if (!r.ok) return this.invalid(r.error, source);
    if (redelivered && this.o.logged?.has(origin, r.value)) {
      // Logged before a crash and re-delivered because its ack did not get out: its readings are back in their windows already.
      this.o.counters.inc('messages_redelivered_logged');
      return;
    }
    this.ingestTelemetry(r.value, origin);
  }

  /** One serial line (CR LF optional). */
  ingestSerialLine(line: string, source: string, maxBytes?: number): void {
    if (!this.admit()) return;
    const r = decodeSerialLine(line, maxBytes);
    if (r.ok) this.ingestTelemetry(r.value);
    else this.invalid(r.error, source);
  }

  /** Input whose framing failed before it could be decoded (over-long line, garbage bytes). */
  framingError(message: string, source: string): void {
    this.o.counters.inc('messages_received');
    this.invalid({ code: 'framing', message }, source);
  }

  /** Counts a message and applies the intake rate limit (a token bucket on the agent clock). */
  private admit(): boolean {
    const { counters } = this.o;
    counters.inc('messages_received');
    if (this.perMs === Infinity) return true;
    const now = this.o.clock.now();
    if (now > this.tokensAt) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.tokensAt) * this.perMs);
      this.tokensAt = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    counters.inc('messages_shed');
    return false;
  }

  /** One decoded message: each of its values is one reading. */
  ingestTelemetry(t: Telemetry, origin = 0): void {
    const { counters, clock, windows, log } = this.o;
    const now = clock.now();
    const stamped = t.ts !== undefined;
    // Devices without a clock get arrival time (DESIGN.md, "Event time").
    const ts = t.ts ?? now;
    const device = t.device;
    const values = t.values;
    let received = 0;
    let accepted = 0;
    for (const metric in values) {
      received++;
      if (ts > now + this.o.maxFutureMs) {
        // Must not reach the windows: it would move its device's event time far ahead and make its later readings late.
        counters.inc('readings_future');
        this.o.problems.note(
          'future_timestamp',
          `device ${JSON.stringify(device)} ts ${ts} is ${ts - now} ms ahead of the agent clock`,
        );
        continue;
      }
      const value = values[metric]!;
      const chain = this.o.filters.forMetric(metric);
      if (chain.length > 0) {
        if (!windows.admits(device, metric)) {
          counters.inc('readings_series_limit');
          continue;
        }
        if (!this.passes(chain, device, metric, ts, value, t.seq, stamped, now, origin)) continue;
      }
      const outcome = windows.add(device, metric, ts, value, now);
      if (outcome === 'accepted' || this.notAccepted(outcome, device, ts)) {
        accepted++;
        if (log !== undefined) log.accepted(device, metric, ts, value, now, origin);
      }
    }
    if (ts - now > this.aheadMs) this.ahead(device, ts, now);
    counters.inc('readings_received', received);
    if (accepted > 0) counters.inc('readings_accepted', accepted);
  }

  // The two below are out of ingestTelemetry's way: rare, and the hot path must stay small enough for V8 to inline the window engine's `add` into it.

  /** Counts what `add` did with a reading it did not simply accept; true when it was kept after all (a correction). */
  private notAccepted(outcome: Exclude<AddOutcome, 'accepted'>, device: string, ts: number): boolean {
    this.o.counters.inc(outcomeCounter[outcome]);
    if (outcome === 'late' || outcome === 'too-late') {
      // Named: the counter alone does not say whose clock or link is behind.
      const behind = this.o.windows.closedOf(device) - ts;
      this.o.problems.note(
        'late',
        `device ${JSON.stringify(device)}: a reading stamped ${ts} is ${behind} ms before the end of its last emitted window`,
      );
    }
    return outcome === 'corrected';
  }

  /** Not an error (its windows close by its own clock), but worth a word: its data is stamped in the future. */
  private ahead(device: string, ts: number, now: number): void {
    if (ts <= now + this.o.maxFutureMs)
      this.o.problems.note(
        'clock_ahead',
        `device ${JSON.stringify(device)} stamps readings ${ts - now} ms ahead of the agent clock`,
      );
  }

  private passes(
    chain: readonly ReadingFilter[],
    device: string,
    metric: string,
    ts: number,
    value: number,
    seq: number | undefined,
    stamped: boolean,
    now: number,
    origin: number,
  ): boolean {
    for (let i = 0; i < chain.length; i++) {
      const filter = chain[i]!;
      if (filter.keep(device, metric, ts, value, seq, stamped)) continue;
      this.o.counters.inc('readings_filtered');
      this.o.counters.inc(filterCounter[filter.kind]);
      // Logged like an accepted reading, so a crash before its window is spooled does not lose its count.
      if (filter.kind === 'range' && this.o.windows.noteOutOfRange(device, metric, ts))
        this.o.log?.outOfRange(device, metric, ts, now, origin);
      return false;
    }
    return true;
  }

  private invalid(error: DecodeError, source: string): void {
    this.o.counters.inc('messages_invalid');
    this.o.counters.inc(`invalid_${error.code}`);
    this.o.problems.note(`invalid_${error.code}`, `${source}: ${error.message}`);
  }
}
