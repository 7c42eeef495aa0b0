import type { Telemetry } from '@tributary/firmware-schemas';
import type { SimClock } from './clock.js';
import type { Fleet } from './fleet.js';
import type { Transport } from './transports/transport.js';

export interface RunStats {
  messages: number;
  readings: number;
  /** Simulated time reached (ms). */
  simTime: number;
}

/**
 * Plays a fleet against a clock: every sample whose event time has come is sent, in event-time
 * order, then the loop yields to the event loop until simulated time reaches the next sample.
 */
export class Simulator {
  readonly stats: RunStats = { messages: 0, readings: 0, simTime: 0 };
  private stopped = false;

  constructor(
    private readonly fleet: Fleet,
    private readonly clock: SimClock,
    private readonly transport: Transport,
  ) {}

  /** Runs until the fleet's duration is played (or `stop()`), then flushes the transport. */
  async run(onProgress?: (stats: RunStats) => void): Promise<RunStats> {
    const { fleet, clock } = this;
    const devices = fleet.devices;
    for (let step = 0; step < fleet.steps && !this.stopped; step++) {
      const stepStart = fleet.options.startMs + step * fleet.options.samplePeriodMs;
      for (const device of devices) {
        const ts = fleet.sampleTime(device, step);
        if (ts >= fleet.options.startMs + fleet.options.durationMs) continue;
        while (ts > clock.now() && !this.stopped) await sleep(clock.wallDelayUntil(ts));
        if (this.stopped) break;
        const message: Telemetry = { device: device.id, ts, seq: device.seq++, values: fleet.values(device, ts) };
        const wait = this.transport.send(message);
        this.stats.messages++;
        this.stats.readings += Object.keys(message.values).length;
        this.stats.simTime = ts;
        if (wait) await wait;
      }
      if (onProgress && step % 50 === 0) onProgress(this.stats);
      // Let sockets and timers run at least once per step even when far behind the clock.
      if (stepStart <= clock.now()) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.transport.flush();
    return this.stats;
  }

  stop(): void {
    this.stopped = true;
  }
}

/** Sleeps at most a second at a time, so `stop()` is noticed promptly. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(ms, 1000))));
}
