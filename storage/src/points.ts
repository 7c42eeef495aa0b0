import {
  hasReadings,
  type AlertEvent,
  type BatchEnvelope,
  type OutOfRangeWindow,
  type WindowResult,
} from '@tributary/firmware-schemas';
import { type EncodedLines, LineBytes } from './line-bytes.js';
import { escapeKey, escapeMeasurement, LineBuilder } from './line-protocol.js';
import {
  AGENT_STATS_MEASUREMENT,
  ANOMALY_FIELD,
  ANOMALY_MEASUREMENT,
  JUDGED_FIELD,
  WINDOW_FIELD,
} from './point-fields.js';
import { windowStddev, type WindowInput } from './window-input.js';
import { plainWindow, WindowTails, writeWindowFields } from './window-line.js';

/** A point the encoder could not turn into line protocol: it goes to the dead-letter file, not its batch. */
export interface UnencodablePoint {
  /** Why, in words (the encoder's error). */
  readonly reason: string;
  /** Whose point it is, for the log: the agent, and the device and metric of a window or an alert. */
  readonly series: string;
  /** The point as the processor had it (the window, the agent's counters or the alert), as JSON for the dead-letter file. */
  readonly point: unknown;
}

/** A batch's points: the lines to write, and the points that could not be encoded (each costs only itself). */
export interface EncodedBatch {
  readonly lines: string[];
  readonly unencodable: UnencodablePoint[];
}

/** Metrics whose escaped measurement and unit tag are remembered (a bounded memo; metric names are few). */
const MAX_REMEMBERED_METRICS = 1024;

/** Encodes a batch's points (the schema and its names: point-fields.ts): its windows, its agent's counters and the alerts it raised. */
export class PointEncoder {
  private readonly b = new LineBuilder();
  /** The buffer `batchBytes` writes into (reused; each batch's lines are copied out of it). */
  private readonly out = new LineBytes();
  private readonly tails = new WindowTails();
  /** The buffer `window` writes its one line into. */
  private readonly one = new LineBytes(512);
  /** Metric → unit tag value. A Map: metric names are the devices', and `constructor` is one. */
  private readonly units: ReadonlyMap<string, string>;
  /** Metric → its measurement, escaped, and its `,unit=…` tag (or ''). */
  private readonly metricHeads = new Map<string, { readonly measurement: string; readonly unit: string }>();
  /**
   * The agent and site whose tags were escaped last, and those tags (`,agent=…`, `,site=…` or '').
   * By name, not by batch: a batch is let go of once it is encoded.
   */
  private tagsOf: { of: string; at: string | undefined; agent: string; site: string } | undefined;

  /** `units`: metric → unit tag value, for the metrics whose unit is known (`influx.units`); only its own keys count. */
  constructor(units: Readonly<Record<string, string>> = {}) {
    this.units = new Map(Object.entries(units));
  }

  /**
   * Every line of a batch, in order: windows, agent stats, anomalies. A point that throws while
   * being encoded is set aside with the reason and the others are encoded as usual. `judged`
   * gives, for a correction, the input detection judged at the window's first emission.
   */
  batch(
    batch: BatchEnvelope,
    alerts: readonly AlertEvent[],
    judged?: (w: WindowResult) => WindowInput | undefined,
  ): EncodedBatch {
    const lines: string[] = [];
    const unencodable: UnencodablePoint[] = [];
    for (const w of batch.windows) {
      try {
        push(lines, this.window(batch, w, w.rev > 0 ? judged?.(w) : undefined));
      } catch (err) {
        unencodable.push(windowUnencodable(batch, w, err));
      }
    }
    try {
      push(lines, this.agentStats(batch));
    } catch (err) {
      unencodable.push(statsUnencodable(batch, err));
    }
    this.anomalyLines(batch, alerts, lines, unencodable);
    return { lines, unencodable };
  }

  /** The anomaly points of the alert transitions a batch raised (written once detection has judged it). */
  anomalies(batch: Pick<BatchEnvelope, 'agent'>, alerts: readonly AlertEvent[]): EncodedBatch {
    const lines: string[] = [];
    const unencodable: UnencodablePoint[] = [];
    this.anomalyLines(batch, alerts, lines, unencodable);
    return { lines, unencodable };
  }

  private anomalyLines(
    batch: Pick<BatchEnvelope, 'agent'>,
    alerts: readonly AlertEvent[],
    lines: string[],
    unencodable: UnencodablePoint[],
  ): void {
    for (const a of alerts) {
      try {
        push(lines, this.anomaly(a));
      } catch (err) {
        unencodable.push({
          reason: reasonOf(err),
          series: `agent ${batch.agent} device ${JSON.stringify(a.device)} metric ${a.metric} alert ${a.id}`,
          point: { measurement: ANOMALY_MEASUREMENT, alert: a },
        });
      }
    }
  }

  /**
   * A window's line: `writeWindow`'s bytes as a string (the processor writes the bytes; this is
   * for `batch`, tests and tools).
   */
  window(batch: BatchEnvelope, w: WindowResult, judged?: WindowInput): string | undefined {
    const out = this.one;
    out.clear();
    out.begin();
    let line = false;
    try {
      line = this.writeWindow(out, batch, w, judged);
    } finally {
      if (line) out.commit();
      else out.abandon();
    }
    const e = out.finish();
    return line ? e.bytes.toString('utf8') : undefined;
  }

  /**
   * The windows and agent stats of a batch (no alerts: they come later, through `anomalies`) as
   * bytes, the same lines `batch` gives as strings (points.test.ts checks it on arbitrary names):
   * a plain window is written piece by piece into the encoder's buffer, any other through its
   * string. A point that throws is taken back and set aside, as in `batch`.
   */
  batchBytes(
    batch: BatchEnvelope,
    judged?: (w: WindowResult) => WindowInput | undefined,
  ): { lines: EncodedLines; unencodable: UnencodablePoint[] } {
    const out = this.out;
    out.clear();
    const unencodable: UnencodablePoint[] = [];
    for (const w of batch.windows) {
      out.begin();
      try {
        if (this.writeWindow(out, batch, w, w.rev > 0 ? judged?.(w) : undefined)) out.commit();
        else out.abandon();
      } catch (err) {
        out.abandon();
        unencodable.push(windowUnencodable(batch, w, err));
      }
    }
    out.begin();
    try {
      const line = this.agentStats(batch);
      if (line === undefined) out.abandon();
      else {
        out.text(line);
        out.commit();
      }
    } catch (err) {
      out.abandon();
      unencodable.push(statsUnencodable(batch, err));
    }
    return { lines: out.finish(), unencodable };
  }

  /**
   * Writes a window's line into `out` (a line begun); false when it has none. A first emission as
   * the batch schema admits it (finite numbers, an integer count, ids that escape to something) is
   * written piece by piece; anything else (a correction with its `rev` and judged values among
   * them) goes through the LineBuilder, which is the reference: both give the same line
   * (points.test.ts checks it).
   */
  writeWindow(out: LineBytes, batch: BatchEnvelope, w: WindowResult, judged: WindowInput | undefined): boolean {
    const tags = hasReadings(w) && plainWindow(w, judged) ? this.tagsFor(batch) : undefined;
    const metric = tags === undefined ? undefined : this.metricHead(w.metric);
    const device = metric === undefined ? '' : escapeKey(w.device);
    if (tags === undefined || metric === undefined || device === '' || !hasReadings(w)) {
      const line = this.windowByBuilder(batch, w, judged);
      if (line === undefined) return false;
      out.text(line);
      return true;
    }
    out.text(metric.measurement);
    out.text(tags.agent);
    out.text(',device=');
    out.text(device);
    out.text(tags.site);
    out.text(metric.unit);
    writeWindowFields(out, w, this.tails);
    return true;
  }

  /** The batch's `,agent=…` and `,site=…` tags, escaped (remembered for the last agent and site); undefined for an agent id that escapes to nothing. */
  private tagsFor(batch: BatchEnvelope): { readonly agent: string; readonly site: string } | undefined {
    let tags = this.tagsOf;
    if (tags?.of !== batch.agent || tags.at !== batch.site) {
      const agent = escapeKey(batch.agent);
      const site = batch.site === undefined ? '' : escapeKey(batch.site);
      if (agent === '') return undefined;
      tags = this.tagsOf = {
        of: batch.agent,
        at: batch.site,
        agent: `,agent=${agent}`,
        site: site === '' ? '' : `,site=${site}`,
      };
    }
    return tags;
  }

  /** A metric's measurement, escaped, and its `,unit=…` tag (or ''); undefined for a name that escapes to nothing. */
  private metricHead(name: string): { readonly measurement: string; readonly unit: string } | undefined {
    let metric = this.metricHeads.get(name);
    if (metric === undefined) {
      const measurement = name === '' ? '' : escapeMeasurement(name);
      const unitValue = this.units.get(name);
      const unit = unitValue === undefined ? '' : escapeKey(unitValue);
      if (measurement === '') return undefined;
      metric = { measurement, unit: unit === '' ? '' : `,unit=${unit}` };
      if (this.metricHeads.size < MAX_REMEMBERED_METRICS) this.metricHeads.set(name, metric);
    }
    return metric;
  }

  /** The line of a window of out-of-range readings only: count 0, out_of_range, length_ms (and rev, judged_* as any window). */
  private outOfRangeWindow(batch: BatchEnvelope, w: OutOfRangeWindow, judged?: WindowInput): string | undefined {
    const f = WINDOW_FIELD;
    const b = this.windowStart(batch, w)
      .int(f.count, 0)
      .int(f.outOfRange, w.outOfRange)
      .int(f.lengthMs, w.end - w.start);
    if (w.rev > 0) b.int(f.rev, w.rev);
    if (judged) judgedFields(b, judged);
    return b.end(w.end);
  }

  /** The builder started on a window's measurement and tags. */
  private windowStart(batch: BatchEnvelope, w: WindowResult): LineBuilder {
    return this.b
      .start(w.metric)
      .tag('agent', batch.agent)
      .tag('device', w.device)
      .tag('site', batch.site)
      .tag('unit', this.units.get(w.metric));
  }

  /** A window's line through the LineBuilder: the reference the one-piece form in `window` must equal. */
  windowByBuilder(batch: BatchEnvelope, w: WindowResult, judged?: WindowInput): string | undefined {
    if (!hasReadings(w)) return this.outOfRangeWindow(batch, w, judged);
    const b = this.windowStart(batch, w);
    const f = WINDOW_FIELD;
    b.int(f.count, w.count)
      .float(f.sum, w.sum)
      .float(f.min, w.min)
      .float(f.max, w.max)
      .float(f.mean, w.mean)
      .float(f.stddev, windowStddev(w))
      .float(f.first, w.first)
      .float(f.last, w.last);
    if (w.quantiles) b.float(f.p50, w.quantiles.p50).float(f.p90, w.quantiles.p90).float(f.p99, w.quantiles.p99);
    // Readings the agent's range filter removed: replay needs them to alert as live did.
    if (w.outOfRange) b.int(f.outOfRange, w.outOfRange);
    b.int(f.lengthMs, w.end - w.start);
    if (w.rev > 0) b.int(f.rev, w.rev);
    if (judged) judgedFields(b, judged);
    return b.end(w.end);
  }

  agentStats(batch: BatchEnvelope): string | undefined {
    const b = this.b.start(AGENT_STATS_MEASUREMENT).tag('agent', batch.agent).tag('site', batch.site);
    for (const [name, value] of Object.entries(batch.counters)) b.int(name, value);
    return b.end(batch.sentAt);
  }

  anomaly(a: AlertEvent): string | undefined {
    const f = ANOMALY_FIELD;
    return this.b
      .start(ANOMALY_MEASUREMENT)
      .tag(f.detector, a.detector)
      .tag(f.device, a.device)
      .tag(f.metric, a.metric)
      .tag(f.severity, a.severity)
      .tag(f.state, a.state)
      .string(f.alertId, a.id)
      .float(f.score, a.score)
      .float(f.value, a.value)
      .int(f.openedAt, a.openedAt)
      .string(f.message, a.message)
      .end(a.at);
  }
}

function judgedFields(b: LineBuilder, j: WindowInput): void {
  const f = JUDGED_FIELD;
  b.int(f.count, j.count)
    .float(f.mean, j.value)
    .float(f.min, j.min)
    .float(f.max, j.max)
    .float(f.stddev, j.stddev)
    .float(f.first, j.first ?? Number.NaN)
    .float(f.last, j.last ?? Number.NaN)
    .int(f.outOfRange, j.outOfRange ?? 0);
}

function push(lines: string[], line: string | undefined): void {
  if (line !== undefined) lines.push(line);
}

/** A window that could not be encoded, for the dead-letter file. */
function windowUnencodable(batch: BatchEnvelope, w: WindowResult, err: unknown): UnencodablePoint {
  return {
    reason: reasonOf(err),
    series: `agent ${batch.agent} device ${JSON.stringify(w.device)} metric ${w.metric}`,
    point: { measurement: w.metric, agent: batch.agent, site: batch.site, window: w },
  };
}

/** An agent's counters that could not be encoded, for the dead-letter file. */
function statsUnencodable(batch: BatchEnvelope, err: unknown): UnencodablePoint {
  return {
    reason: reasonOf(err),
    series: `agent ${batch.agent} counters`,
    point: {
      measurement: AGENT_STATS_MEASUREMENT,
      agent: batch.agent,
      site: batch.site,
      sentAt: batch.sentAt,
      counters: batch.counters,
    },
  };
}

function reasonOf(err: unknown): string {
  return `cannot encode as line protocol: ${err instanceof Error ? err.message : String(err)}`;
}
