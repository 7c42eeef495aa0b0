import type { WindowResult } from '@tributary/firmware-schemas';
import { Batcher } from './core/batcher.js';
import { Sealer, type SealerOptions } from './sealing.js';

/** How often device clocks are moved on, batches are sealed by age and `complete` advances. */
const TICK_MS = 100;

/** What the sealer needs but the batcher's own seal (which Batching gives it). */
export type BatchingOptions = Omit<SealerOptions, 'sealGathered'>;

/**
 * The way out of the window engine: each window it emits is gathered by the batcher
 * (batch.maxWindows, batch.maxDelayMs), whose batches are sealed and spooled (sealing.ts). From
 * `start` to `stop` a timer moves idle devices' clocks on and seals batches by age.
 */
export class Batching {
  private readonly batcher: Batcher;
  private readonly sealer: Sealer;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = { messages: 0, windows: 0 };
  /** While a stop flushes the windows: those it emits (still open). */
  private flushed: WindowResult[] | undefined;

  constructor(private readonly o: BatchingOptions) {
    this.sealer = new Sealer({ ...o, sealGathered: () => this.batcher.flush() });
    this.batcher = new Batcher(o.config.batch.maxWindows, o.config.batch.maxDelayMs, (windows) =>
      this.sealer.sealed(windows),
    );
  }

  /** The window engine's sink for each window it emits: counted and gathered into a batch. */
  window(window: WindowResult): void {
    this.o.counters.inc('windows_emitted');
    this.flushed?.push(window);
    this.batcher.add(window, this.o.clock.now());
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Seals what the batcher gathers and spools every batch waiting. Call between two calls of the window engine. */
  sealAll(): void {
    this.batcher.flush();
    this.sealer.drain();
  }

  /** Emits every window still open (WindowEngine.flush) into the batcher, and returns them (the stop saves them). */
  flushOpenWindows(): WindowResult[] {
    this.flushed = [];
    this.o.windows.flush();
    const open = this.flushed;
    this.flushed = undefined;
    return open;
  }

  /**
   * The timer: idle devices' windows close (see WindowEngine.tick) and batches are sealed by age.
   * Windows the tick closed while no message came in since the last one are sealed at once: the
   * gateway has gone quiet, and they already waited idleAfterMs; under a steady trickle they wait
   * for the batch as any window does (fewer, fuller batches: fewer flash writes).
   */
  private tick(): void {
    const { counters, windows, clock } = this.o;
    const now = clock.now();
    const messages = counters.get('messages_received');
    windows.tick(now);
    const emitted = counters.get('windows_emitted');
    if (emitted > this.lastTick.windows && messages === this.lastTick.messages) this.batcher.flush();
    else this.batcher.tick(now);
    this.sealer.drain();
    this.lastTick = { messages, windows: emitted };
  }
}
