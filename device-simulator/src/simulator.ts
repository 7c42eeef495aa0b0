import type { FirmwareFormat } from '@tributary/firmware-schemas';
import type { SimClock } from './clock.js';
import type { Frame } from './device.js';
import type { Fleet } from './fleet.js';
import { TickQueue } from './scheduler.js';
import type { Transport } from './transports/transport.js';

export interface RunStats {
  /** Payloads put on the wire: readings, bursts, duplicates and malformed ones. */
  messages: number;
  /** Readings in payloads that decode (duplicates and bursts included; malformed ones not). */
  readings: number;
  /** Readings sent outside their sensor's physical range (glitch anomalies, malformed values). */
  outOfRange: number;
  malformed: number;
  /** Payloads that do not decode at all (bad JSON, bad checksum, truncated line; resent ones too). */
  undecodable: number;
  duplicates: number;
  /** Messages sent late, in a burst after an outage. */
  bursts: number;
  /** Messages never sent: silenced by a dropout, lost in transit, or beyond an offline buffer. */
  silenced: number;
  lost: number;
  bytes: number;
  /** Simulated time reached (ms). */
  simTime: number;
}

/** A run that cannot be played as configured (the message says why and what to change). */
export class SimulatorConfigError extends Error {
  readonly code = 'sim_config';
}

/** Where each firmware format's frames go: one transport for all, or one per format. */
export type Transports = Transport | Partial<Record<FirmwareFormat, Transport>>;

const isTransport = (t: Transports): t is Transport => typeof (t as Transport).send === 'function';

/**
 * Plays a fleet against a clock: every tick whose simulated time has come is played, in
 * event-time order across the fleet, and its frames are handed to the transport of the device's
 * firmware format; then the loop waits until simulated time reaches the next tick. A transport's
 * backpressure (a promise from `send`) pauses the loop, so a slow link slows the simulation down
 * instead of filling memory; the timestamps stay those of the simulated clock.
 */
export class Simulator {
  readonly stats: RunStats = {
    messages: 0,
    readings: 0,
    outOfRange: 0,
    malformed: 0,
    undecodable: 0,
    duplicates: 0,
    bursts: 0,
    silenced: 0,
    lost: 0,
    bytes: 0,
    simTime: 0,
  };
  private stopped = false;
  private readonly route: (format: FirmwareFormat) => Transport;

  constructor(
    private readonly fleet: Fleet,
    private readonly clock: SimClock,
    transports: Transports,
  ) {
    const byFormat = isTransport(transports) ? { json: transports, serial: transports } : transports;
    for (const d of fleet.devices) {
      if (byFormat[d.spec.format] === undefined)
        throw new SimulatorConfigError(
          `device ${d.id} speaks the ${d.spec.format} format, and no ${d.spec.format} transport was given`,
        );
    }
    if (clock.speed !== 1 && fleet.hasClocklessDevices) {
      throw new SimulatorConfigError(
        `the fleet has devices without a clock (clock: none), and the run is accelerated ${clock.speed}×: the receiver stamps such readings with their arrival (wall-clock) time, which would not match the simulated time; play them in real time (speed 1) or give their model a clock`,
      );
    }
    this.route = (format) => byFormat[format]!;
  }

  /** Runs until the fleet's duration is played (or `stop()`), then flushes the transports. */
  async run(onProgress?: (stats: RunStats) => void): Promise<RunStats> {
    const { fleet, clock, stats } = this;
    const end = fleet.options.startMs + fleet.options.durationMs;
    const queue = new TickQueue(fleet.devices);
    const frames: Frame[] = [];
    const emit = (f: Frame): void => {
      frames.push(f);
    };
    let sinceYield = 0;
    while (!this.stopped) {
      const device = queue.peek();
      if (device === undefined) break;
      const ts = device.nextTs;
      if (ts >= end) {
        queue.pop();
        continue;
      }
      if (ts > clock.now()) {
        onProgress?.(stats);
        await sleep(clock.wallDelayUntil(ts));
        continue;
      }
      device.step(emit);
      queue.advanced();
      stats.simTime = ts;
      for (const f of frames) {
        stats.messages++;
        stats.readings += f.readings;
        stats.outOfRange += f.outOfRange;
        stats.bytes += f.payload.length;
        if (f.readings === 0) stats.undecodable++;
        if (f.role === 'malformed') stats.malformed++;
        else if (f.role === 'duplicate') stats.duplicates++;
        else if (f.role === 'burst') stats.bursts++;
        const wait = this.route(f.format).send(f);
        if (wait) await wait;
      }
      frames.length = 0;
      // Let sockets and timers run every few hundred ticks even when far behind the clock: the
      // writes queued meanwhile go out in one batch, and a larger batch costs more than it saves.
      if (++sinceYield >= 256) {
        sinceYield = 0;
        onProgress?.(stats);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    for (const d of fleet.devices) {
      stats.silenced += d.counts.silenced;
      stats.lost += d.counts.lost;
    }
    const transports = new Set(fleet.devices.map((d) => this.route(d.spec.format)));
    await Promise.all([...transports].map((t) => t.flush()));
    onProgress?.(stats);
    return stats;
  }

  /** Stops after the tick being played; `run` then flushes and returns. */
  stop(): void {
    this.stopped = true;
  }
}

/** Sleeps at most a second at a time, so `stop()` is noticed promptly. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(ms, 1000))));
}
