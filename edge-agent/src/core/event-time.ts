/**
 * Event-time progress of one device (DESIGN.md, "Event time": one watermark per input, as stream
 * processors keep one per partition). Every window of the device ending at or before `closed` has
 * been emitted; a reading of the device stamped before it is late.
 */
export class DeviceClock {
  /** The newest event time: the newest timestamp accepted, or where the agent's clocks moved it on. */
  eventTs = -Infinity;
  /** Agent clock when a reading last advanced `eventTs`: idle progress counts from here. */
  lastAdvanceAt: number;
  /** Series of this device that hold panes. */
  series = 0;

  constructor(
    readonly name: string,
    /** A multiple of the slide; only increases. */
    public closed: number,
    now: number,
  ) {
    this.lastAdvanceAt = now;
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
 * idleAfterMs + allowedLatenessMs (`lowest`): readings stamped further behind are late, and a
 * device that stays silent is moved on at a tick. `complete`, the lowest device boundary as of the
 * last tick and never past the agent clock minus the lateness, is where devices the engine does
 * not know start.
 *
 * Bounded by maxDevices. A device with nothing open is forgotten at a tick once `complete` covers
 * it. Policy at the bound, `forget-emptiest`: the device that lost its last series longest ago is
 * forgotten at once, and devices the engine does not know start no lower than its boundary
 * (`forgottenFloor`), so none of its emitted windows can be opened a second time.
 */
export class EventTime {
  private readonly byName = new Map<string, DeviceClock>();
  /** Devices without series, in the order they lost their last one. */
  private readonly empty = new Set<DeviceClock>();
  /** Readings at or past this (lateness + one slide after a device's boundary) move its boundary. */
  private readonly closeAfterMs: number;
  private forgottenFloor = -Infinity;
  private agentTs = -Infinity;
  /** No device's boundary is below this. */
  private lowestClosed = -Infinity;
  /** The agent's event time at which `lowestClosed` moves next. */
  private lowestMovesAt = -Infinity;
  private floor = -Infinity;
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

  /** No device's boundary may be below this: idleAfterMs + lateness behind the agent's event time. */
  get lowest(): number {
    return this.lowestClosed;
  }

  /** Where a device the engine does not know starts. */
  unknownFloor(): number {
    return Math.max(this.floor, this.forgottenFloor, this.lowestClosed);
  }

  /** Before this a reading of `name` is late (without moving anything). */
  closedOf(name: string): number {
    const d = this.byName.get(name);
    return d === undefined ? this.unknownFloor() : Math.max(d.closed, this.lowestClosed);
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
    d = new DeviceClock(name, closed, this.now);
    this.byName.set(name, d);
    this.empty.add(d);
    return d;
  }

  seriesAdded(d: DeviceClock): void {
    if (d.series++ === 0) this.empty.delete(d);
  }

  seriesRemoved(d: DeviceClock): void {
    if (--d.series === 0) this.empty.add(d);
  }

  /**
   * A reading stamped `ts` arrived at agent time `now` and was accepted on time. Returns the
   * boundary its device's windows must now be closed to, or undefined when they need not move.
   */
  advance(d: DeviceClock, ts: number, now: number): number | undefined {
    if (ts <= d.eventTs) return undefined;
    d.eventTs = ts;
    d.lastAdvanceAt = now;
    const agentTs = ts < now ? ts : now;
    if (agentTs > this.agentTs) {
      this.agentTs = agentTs;
      if (agentTs >= this.lowestMovesAt) this.moveLowest();
    }
    // Floor division rather than %: timestamps exceed 2^31, where % is a slow floating-point fmod.
    return ts >= d.closed + this.closeAfterMs ? Math.floor((ts - this.o.allowedLatenessMs) / this.o.slideMs) * this.o.slideMs : undefined;
  }

  private moveLowest(): void {
    const { slideMs, allowedLatenessMs, idleAfterMs } = this.o;
    this.lowestClosed = Math.floor((this.agentTs - idleAfterMs - allowedLatenessMs) / slideMs) * slideMs;
    this.lowestMovesAt = this.lowestClosed + slideMs + idleAfterMs + allowedLatenessMs;
  }

  /**
   * The agent's timer: asks `close` to move every device that trails the lowest boundary on,
   * forgets devices with nothing open that `complete` covers, and advances `complete`. O(devices).
   */
  tick(now: number, close: (d: DeviceClock, boundary: number) => void): void {
    if (now > this.now) this.now = now;
    let lowest = Infinity;
    for (const d of this.byName.values()) {
      if (d.closed < this.lowestClosed) close(d, this.lowestClosed);
      if (d.series === 0 && d.closed <= this.floor) this.forget(d);
      else if (d.closed < lowest) lowest = d.closed;
    }
    if (this.byName.size === 0) return;
    // Never past the agent clock: a fast device alone must not make the next new device late.
    const bound = Math.floor((this.now - this.o.allowedLatenessMs) / this.o.slideMs) * this.o.slideMs;
    const complete = lowest < bound ? lowest : bound;
    if (complete > this.floor) this.floor = complete;
  }

  /** Every window up to `lastEnd` was emitted at shutdown: `complete` covers them, up to the end of the window holding the agent clock. */
  flushed(lastEnd: number, lengthMs: number): void {
    const bound = Math.floor(this.now / this.o.slideMs) * this.o.slideMs + lengthMs;
    this.floor = Math.max(this.floor, Math.min(lastEnd, bound));
    this.byName.clear();
    this.empty.clear();
  }

  private forget(d: DeviceClock): void {
    this.byName.delete(d.name);
    this.empty.delete(d);
  }
}
