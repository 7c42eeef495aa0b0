import type { Rng } from '../rng.js';
import { countAtMost } from '../sorted.js';

/**
 * When a device's machine runs: alternating on and off periods of exponentially distributed
 * length, drawn once for the whole run so vibration and current of one device agree and the
 * anomaly planner can look ahead. Without a duty cycle the machine always runs.
 */
export class MachineSchedule {
  /** Times at which the state flips, ascending; the state before the first is `initiallyOn`. */
  private readonly flips: number[];
  private cursor = 0;

  private constructor(
    private readonly initiallyOn: boolean,
    flips: number[],
  ) {
    this.flips = flips;
  }

  static alwaysOn(): MachineSchedule {
    return new MachineSchedule(true, []);
  }

  static draw(rng: Rng, startMs: number, endMs: number, meanOnMs: number, meanOffMs: number): MachineSchedule {
    let on = rng.chance(meanOnMs / (meanOnMs + meanOffMs));
    // Start inside a period, not at its beginning.
    let t = startMs - rng.uniform(0, on ? meanOnMs : meanOffMs);
    let onAtStart: boolean | undefined;
    const flips: number[] = [];
    for (;;) {
      t += Math.max(60_000, -Math.log(1 - rng.next()) * (on ? meanOnMs : meanOffMs));
      if (t > startMs) {
        onAtStart ??= on;
        if (t >= endMs) break;
        flips.push(Math.round(t));
      }
      on = !on;
    }
    return new MachineSchedule(onAtStart ?? on, flips);
  }

  /** Whether the machine runs at `ts`. Calls must come in non-decreasing `ts` (a cursor moves on). */
  isOnAt(ts: number): boolean {
    while (this.cursor < this.flips.length && this.flips[this.cursor]! <= ts) this.cursor++;
    return this.initiallyOn === (this.cursor % 2 === 0);
  }

  /** Whether the machine runs during the whole of [start, end]; any order of calls. */
  runsThroughout(start: number, end: number): boolean {
    const lo = countAtMost(this.flips, start);
    const onAtStart = this.initiallyOn === (lo % 2 === 0);
    const nextFlip = this.flips[lo];
    return onAtStart && (nextFlip === undefined || nextFlip > end);
  }
}
