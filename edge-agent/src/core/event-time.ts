import type { Series } from './pane.js';

/** Where event time stood: enough to take a restarted engine back to it (see the write-ahead log). */
export interface EventTimeState {
  readonly complete: number;
  readonly agentTs: number;
  readonly forgottenFloor: number;
  /** Device boundaries, as [device, closed]. */
  readonly clocks: Array<[string, number]>;
}

/**
 * Event-time progress of one device (DESIGN.md, "Event time": one watermark per input, as stream
 * processors keep one per partition). Every window of the device ending at or before `closed` has
 * been emitted; a reading of the device stamped before it is late.
 *
 * Its two numbers a reading reads and writes live side by side in one Float64Array shared by all
 * devices (at `at` and `at + 1`): read per reading, they cost one cache line, where number fields
 * would each be a boxed double of their own.
 */
export class DeviceClock {
  /** Agent clock at the first tick that saw its event time advanced (or when it was made); idle progress counts from here. */
  lastAdvanceAt = -Infinity;
  /** Its event time as the last tick saw it. */
  seenEventTs = -Infinity;
  /** Series of this device that hold panes, in the order they were made (the engine adds and removes them). */
  readonly series: Series[] = [];

  constructor(
    readonly name: string,
    /** EventTime's array (replaced when it grows). */
    public times: Float64Array,
    /** Index of its event time in `times`; its boundary is at `at + 1`. */
    readonly at: number,
    closed: number,
    now: number,
  ) {
    times[at] = -Infinity;
    times[at + 1] = closed;
    this.lastAdvanceAt = now;
  }

  /** The newest timestamp accepted from the device. */
  get eventTs(): number {
    return this.times[this.at]!;
  }

  /** A multiple of the slide; only increases. */
  get closed(): number {
    return this.times[this.at + 1]!;
  }

  set closed(boundary: number) {
    this.times[this.at + 1] = boundary;
  }
}

export interface EventTimeOptions {
  readonly slideMs: number;
  readonly allowedLatenessMs: number;
  readonly idleAfterMs: number;
  /** Bound on device clocks (the engine's maxSeries: a device with open windows has a series). */
  readonly maxDevices: number;
}

/**
 * Where event time stands, per device and for the agent; the window engine moves windows by it.
 *
 * The agent's event time is the newest timestamp accepted from any device, never past the agent
 * clock at its arrival (a fast device cannot move it). No device's boundary trails it by more than
 * idleAfterMs + allowedLatenessMs (`lowest`): readings stamped further behind are late.
 *
 * Idle progress (as Flink's idle sources and Kafka Streams' wall-clock punctuation): when no
 * reading has advanced a device's event time for idleAfterMs of agent clock (as seen at the ticks,
 * so up to one tick more), its boundary follows
 * the agent clock at each tick as if a reading stamped `now` had arrived (now − allowedLatenessMs),
 * so its last windows close on time when readings stop. A reading that advances its event time
 * again ends that; it is judged by the normal rules meanwhile (a reading for a closed window is late).
 *
 * `complete`, the lowest device boundary as of the last tick and never past the agent clock minus
 * the lateness, is where devices the engine does not know start; forgotten devices count as idle.
 *
 * Bounded by maxDevices. A device with nothing open is forgotten at a tick once `complete` covers
 * it. Policy at the bound, `forget-emptiest`: the device that lost its last series longest ago is
 * forgotten at once, and devices the engine does not know start no lower than its boundary
 * (`forgottenFloor`), so none of its emitted windows can be opened a second time.
 */
export class EventTime {
  private readonly byName = new Map<string, DeviceClock>();
  /** Event time and boundary of every device, two numbers each (see DeviceClock). Grows by doubling. */
  times = new Float64Array(2 * 256);
  /** Indexes in `times` of forgotten devices, for reuse. */
  private readonly free: number[] = [];
  private used = 0;
  /** Devices without series, in the order they lost their last one. */
  private readonly empty = new Set<DeviceClock>();
  /** Readings at or past this (lateness + one slide after a device's boundary) move its boundary. */
  private readonly closeAfterMs: number;
  private forgottenFloor = -Infinity;
  private agentTs = -Infinity;
  /** No device's boundary may be below this: idleAfterMs + lateness behind the agent's event time. Read-only outside. */
  lowest = -Infinity;
  /** The agent's event time at which `lowest` moves next. */
  private lowestMovesAt = -Infinity;
  private floor = -Infinity;
  /** Idle progress counts from here at the earliest (see `resume`). */
  private resumedAt = -Infinity;
  /** Devices whose boundary moved since the last `state(false)` (at most every device). */
  private readonly moved = new Set<DeviceClock>();
  /** The newest agent clock seen. */
  now = -Infinity;

  constructor(
    private readonly o: EventTimeOptions,
    private readonly onForgotten: () => void,
  ) {
    this.closeAfterMs = o.allowedLatenessMs + o.slideMs;
  }

  get size(): number {
    return this.byName.size;
  }

  get(name: string): DeviceClock | undefined {
    return this.byName.get(name);
  }

  /** Every window ending at or before this has been emitted; -Infinity until the first tick with devices. */
  get complete(): number {
    return this.floor;
  }

  /** Where a device the engine does not know starts. */
  unknownFloor(): number {
    return Math.max(this.floor, this.forgottenFloor, this.lowest);
  }

  /** Before this a reading of `name` is late (without moving anything). */
  closedOf(name: string): number {
    const d = this.byName.get(name);
    return d === undefined ? this.unknownFloor() : Math.max(d.closed, this.lowest);
  }

  /** The clock of `name`; a new one starts at `closed` (making room at the bound first). */
  obtain(name: string, closed: number): DeviceClock {
    let d = this.byName.get(name);
    if (d !== undefined) return d;
    if (this.byName.size >= this.o.maxDevices) {
      // Devices with series are fewer than maxDevices here (the new series is not counted yet), so one is empty.
      const oldest = this.empty.values().next();
      if (!oldest.done) {
        this.forget(oldest.value);
        if (oldest.value.closed > this.forgottenFloor) this.forgottenFloor = oldest.value.closed;
        this.onForgotten();
      }
    }
    const at = this.slot(); // first: it may grow `times`
    d = new DeviceClock(name, this.times, at, closed, this.now);
    this.byName.set(name, d);
    this.empty.add(d);
    return d;
  }

  /** A free place in `times` (growing it when full). */
  private slot(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.times.length) {
      const grown = new Float64Array(this.times.length * 2);
      grown.set(this.times);
      this.times = grown;
      for (const d of this.byName.values()) d.times = grown;
    }
    this.used += 2;
    return this.used - 2;
  }

  /** The engine made a series of `d`. */
  seriesAdded(d: DeviceClock, s: Series): void {
    if (d.series.push(s) === 1) this.empty.delete(d);
  }

  /** The engine took series out of `d.series`. */
  seriesRemoved(d: DeviceClock): void {
    if (d.series.length === 0) this.empty.add(d);
  }

  /**
   * A reading stamped `ts` of the device at `at` (DeviceClock.at) arrived at agent time `now` and
   * was accepted on time. True when its device's windows must now be closed (to `boundaryFor(ts)`).
   * Per reading, so kept small: it touches only the device's numbers in `times`.
   */
  advance(at: number, ts: number, now: number): boolean {
    const times = this.times;
    if (ts <= times[at]!) return false;
    times[at] = ts;
    const agentTs = Math.min(ts, now);
    if (agentTs > this.agentTs) this.moveAgent(agentTs);
    return ts >= times[at + 1]! + this.closeAfterMs;
  }

  /** The boundary a reading stamped `ts` moves its device's windows to. */
  boundaryFor(ts: number): number {
    // Floor division rather than %: timestamps exceed 2^31, where % is a slow floating-point fmod.
    return Math.floor((ts - this.o.allowedLatenessMs) / this.o.slideMs) * this.o.slideMs;
  }

  private moveAgent(agentTs: number): void {
    this.agentTs = agentTs;
    if (agentTs >= this.lowestMovesAt) this.moveLowest();
  }

  private moveLowest(): void {
    const { slideMs, allowedLatenessMs, idleAfterMs } = this.o;
    this.lowest = Math.floor((this.agentTs - idleAfterMs - allowedLatenessMs) / slideMs) * slideMs;
    this.lowestMovesAt = this.lowest + slideMs + idleAfterMs + allowedLatenessMs;
  }

  /**
   * Readings may have been held up until now (the agent restarted, a source reconnected and its
   * broker's backlog follows): idle progress waits another idleAfterMs from here.
   */
  resume(now: number): void {
    if (now > this.now) this.now = now;
    this.resumedAt = this.now;
  }

  /**
   * The agent's timer: asks `close` to move on every device that trails the lowest boundary or is
   * idle, forgets devices with nothing open that `complete` covers, and advances `complete`.
   * O(devices).
   */
  tick(now: number, close: (d: DeviceClock, boundary: number) => void): void {
    if (now > this.now) this.now = now;
    const { slideMs, allowedLatenessMs, idleAfterMs } = this.o;
    // As a reading stamped `now` would put it; never past the agent clock, so a fast device alone
    // cannot make the next new device late.
    const clockBound = Math.floor((this.now - allowedLatenessMs) / slideMs) * slideMs;
    // Idle: no advance for idleAfterMs, nor a resume.
    const idleSince = this.resumedAt <= this.now - idleAfterMs ? this.now - idleAfterMs : -Infinity;
    let lowest = Infinity;
    for (const d of this.byName.values()) {
      // Whether a reading advanced it is seen here, at the tick, so no reading writes the time.
      if (d.eventTs !== d.seenEventTs) {
        d.seenEventTs = d.eventTs;
        d.lastAdvanceAt = this.now;
      }
      const target = d.lastAdvanceAt <= idleSince && clockBound > this.lowest ? clockBound : this.lowest;
      if (d.closed < target) close(d, target);
      if (d.series.length === 0 && d.closed <= this.floor) this.forget(d);
      else if (d.closed < lowest) lowest = d.closed;
    }
    if (this.floor === -Infinity && lowest === Infinity) return; // no device seen yet: nothing to claim
    const complete = Math.min(lowest, clockBound);
    if (complete > this.floor) this.floor = complete;
  }

  /** Every window up to `lastEnd` was emitted at shutdown: `complete` covers them, up to the end of the window holding the agent clock. */
  flushed(lastEnd: number, lengthMs: number): void {
    const bound = Math.floor(this.now / this.o.slideMs) * this.o.slideMs + lengthMs;
    this.floor = Math.max(this.floor, Math.min(lastEnd, bound));
    this.byName.clear();
    this.empty.clear();
    this.moved.clear();
    this.free.length = 0;
    this.used = 0;
  }

  /** A device's boundary moved. */
  closedMoved(d: DeviceClock): void {
    this.moved.add(d);
  }

  /** Where event time stands: with every device above `complete` (`all`), or only those whose boundary moved since the last call. */
  state(all: boolean): EventTimeState {
    const clocks: Array<[string, number]> = [];
    for (const d of all ? this.byName.values() : this.moved)
      if (!all || d.closed > this.floor) clocks.push([d.name, d.closed]);
    if (!all) this.moved.clear();
    return { complete: this.floor, agentTs: this.agentTs, forgottenFloor: this.forgottenFloor, clocks };
  }

  /**
   * Takes a fresh engine back to `state` (its devices hold no series yet). The boundaries are
   * taken as they were, not raised to `lowest`: a device may trail it until its next reading or
   * tick, and its windows up to `lowest` were not emitted yet.
   */
  restoreState(state: EventTimeState): void {
    this.floor = state.complete;
    this.forgottenFloor = state.forgottenFloor;
    if (state.agentTs > this.agentTs) this.moveAgent(state.agentTs);
    for (const [name, closed] of state.clocks) this.obtain(name, Math.max(closed, this.floor, this.forgottenFloor));
  }

  /** Every window of `name` ending at or before this was emitted: its boundary as it stands, not raised to `lowest` (see `restoreState`). */
  emittedUpTo(name: string): number {
    return this.byName.get(name)?.closed ?? Math.max(this.floor, this.forgottenFloor);
  }

  private forget(d: DeviceClock): void {
    this.byName.delete(d.name);
    this.empty.delete(d);
    this.moved.delete(d);
    this.free.push(d.at);
  }
}
