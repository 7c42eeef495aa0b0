import { topics, type FirmwareFormat, type MalformedKindName, type Telemetry } from '@tributary/firmware-schemas';
import { anomalyModels } from './anomalies/kinds.js';
import type { PlannedAnomaly } from './anomalies/plan.js';
import { corruptFrame, encodeFrame, type DeviceClock } from './behaviour.js';
import { pickWeighted, type Rng } from './rng.js';
import { clampToRange, quantise, type Signal } from './signals/signal.js';

/** One payload as the device puts it on the wire, and what it is. */
export interface Frame {
  readonly device: string;
  readonly topic: string;
  readonly format: FirmwareFormat;
  readonly payload: string;
  /** Readings the payload carries when it decodes (0 for a payload that does not). */
  readonly readings: number;
  /** Readings outside their sensor's physical range (glitches, malformed values). */
  readonly outOfRange: number;
  /** `burst`: kept while offline and sent on reconnect; `duplicate`: the same message again. */
  readonly role: 'reading' | 'burst' | 'duplicate' | 'malformed';
  /** Simulated time the readings were taken. */
  readonly ts: number;
}

/** How a device misbehaves on the wire (all rates per message); see BehaviourConfig. */
export interface WireBehaviour {
  readonly seqGapRate: number;
  readonly duplicateRate: number;
  readonly malformedRate: number;
  readonly malformedKinds: ReadonlyArray<readonly [MalformedKindName, number]>;
  readonly maxBufferedMessages: number;
}

/** What happened to the messages of a device that never reached the wire, by cause. */
export interface DeviceCounts {
  /** Messages not sent during a dropout (the device is silent). */
  silenced: number;
  /** Messages lost in transit (`seq` gap) or beyond the offline buffer. */
  lost: number;
}

export interface SeriesRuntime {
  readonly signal: Signal;
  /** Reads on every `every`-th tick of the device. */
  readonly every: number;
  /** This series' anomalies in time order, and a cursor over them. */
  readonly anomalies: readonly PlannedAnomaly[];
  cursor: number;
  readonly anomalyNoise: Rng;
}

export interface DeviceSpec {
  readonly id: string;
  readonly site: string;
  readonly model: string;
  readonly format: FirmwareFormat;
  readonly clock: DeviceClock;
  readonly clockless: boolean;
  /** Tick grid: one tick every `periodMs`, the first at `startMs + offsetMs`. */
  readonly periodMs: number;
  readonly offsetMs: number;
  readonly series: SeriesRuntime[];
  readonly dropouts: readonly PlannedAnomaly[];
  readonly outages: ReadonlyArray<readonly [number, number]>;
  readonly behaviour: WireBehaviour;
  readonly rng: Rng;
}

/**
 * A simulated device: on each tick it reads its due sensors, applies the anomalies active at that
 * time and hands the resulting frames (none, one, a duplicate, or a burst after reconnecting) to
 * `emit`. Deterministic: the same spec and tick times give the same frames.
 */
export class SimDevice {
  readonly topic: string;
  /** `{"device":"<id>"`: the fixed start of this device's JSON telemetry. */
  private readonly jsonPrefix: string;
  seq = 0;
  tick = 0;
  /** Simulated time of the next tick. */
  nextTs: number;
  readonly counts: DeviceCounts = { silenced: 0, lost: 0 };
  private dropCursor = 0;
  private outageCursor = 0;
  private readonly buffer: Frame[] = [];

  constructor(
    readonly spec: DeviceSpec,
    startMs: number,
  ) {
    this.topic = topics.telemetry(spec.id);
    this.jsonPrefix = `{"device":${JSON.stringify(spec.id)}`;
    this.nextTs = startMs + spec.offsetMs;
  }

  get id(): string {
    return this.spec.id;
  }

  /** Plays the tick at `nextTs` and moves `nextTs` on by one period. */
  step(emit: (frame: Frame) => void): void {
    const ts = this.nextTs;
    const { spec } = this;
    const values: Record<string, number> = {};
    let n = 0;
    let outOfRange = 0;
    let json = '';
    for (const s of spec.series) {
      if (this.tick % s.every !== 0) continue;
      const kind = s.signal.kind;
      let v = s.signal.sample(ts);
      while (s.cursor < s.anomalies.length && s.anomalies[s.cursor]!.end < ts) s.cursor++;
      const a = s.anomalies[s.cursor];
      const active = a !== undefined && a.start <= ts ? a : undefined;
      if (active) v = anomalyModels[active.kind].apply(v, ts, active, s.anomalyNoise);
      // A glitch is sent exactly as the broken sensor reports it; anything else saturates and is quantised.
      if (active?.kind !== 'out-of-range') v = quantise(clampToRange(v, kind), kind.quantum);
      if (active?.kind === 'stuck') v = active.held ??= v;
      if (v < kind.range.min || v > kind.range.max) outOfRange++;
      values[kind.metric] = v;
      json += `${n === 0 ? '' : ','}"${kind.metric}":${v}`;
      n++;
    }
    this.tick++;
    this.nextTs = ts + spec.periodMs;
    if (n === 0) return;
    if (this.inDropout(ts)) {
      this.seq++;
      this.counts.silenced++;
      return;
    }
    const stamp = spec.clock(ts);
    const t: Telemetry =
      stamp === undefined
        ? { device: spec.id, seq: this.seq++, values }
        : { device: spec.id, ts: stamp, seq: this.seq++, values };
    const b = spec.behaviour;
    const rng = spec.rng;
    if (b.seqGapRate > 0 && rng.chance(b.seqGapRate)) {
      this.counts.lost++;
      return;
    }
    let frame: Frame;
    if (b.malformedRate > 0 && rng.chance(b.malformedRate)) {
      const kind = pickWeighted(rng, b.malformedKinds);
      const payload = corruptFrame(kind, spec.format, t, rng);
      // An out-of-range value goes to a reading still in range (see corruptFrame): one more, unless none was left.
      frame =
        kind === 'out-of-range'
          ? this.frame(payload, ts, 'malformed', n, Math.min(n, outOfRange + 1))
          : this.frame(payload, ts, 'malformed', 0, 0);
    } else {
      // The hot path: JSON.stringify's output, written out (a test checks they agree).
      const payload =
        spec.format === 'json'
          ? `${this.jsonPrefix}${stamp === undefined ? '' : `,"ts":${stamp}`},"seq":${t.seq},"values":{${json}}}`
          : encodeFrame(spec.format, t);
      frame = this.frame(payload, ts, 'reading', n, outOfRange);
    }
    if (this.offline(ts)) {
      if (this.buffer.length >= b.maxBufferedMessages) {
        this.counts.lost++;
        if (b.maxBufferedMessages === 0) return;
        this.buffer.shift();
      }
      this.buffer.push({ ...frame, role: frame.role === 'reading' ? 'burst' : frame.role });
      return;
    }
    if (this.buffer.length > 0) for (const f of this.buffer.splice(0)) emit(f);
    emit(frame);
    if (b.duplicateRate > 0 && rng.chance(b.duplicateRate)) emit({ ...frame, role: 'duplicate' });
  }

  private frame(payload: string, ts: number, role: Frame['role'], readings: number, outOfRange: number): Frame {
    return {
      device: this.spec.id,
      topic: this.topic,
      format: this.spec.format,
      payload,
      readings,
      outOfRange,
      role,
      ts,
    };
  }

  private inDropout(ts: number): boolean {
    const d = this.spec.dropouts;
    while (this.dropCursor < d.length && d[this.dropCursor]!.end < ts) this.dropCursor++;
    const a = d[this.dropCursor];
    return a !== undefined && a.start <= ts;
  }

  private offline(ts: number): boolean {
    const o = this.spec.outages;
    while (this.outageCursor < o.length && o[this.outageCursor]![1] <= ts) this.outageCursor++;
    const w = o[this.outageCursor];
    return w !== undefined && w[0] <= ts;
  }
}
