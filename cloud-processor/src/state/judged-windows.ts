import type { WindowInput } from '@tributary/storage';

/**
 * The detector input of recent first emissions, so that a correction of a window (`rev` > 0,
 * re-emitted after late readings) can be stored with what detection judged: live detection judges
 * a window once, at its first emission, and replay must judge the same values (storage's
 * JUDGED_FIELD). Bounded: two generations of at most `maxWindows / 2` each, the older dropped
 * whole when the newer fills (O(1) per window; evicting one by one from a Map's head costs time
 * proportional to the deletions it skips), so the latest `maxWindows / 2` to `maxWindows` are
 * remembered. A correction of a window forgotten is stored without them (counted by the caller).
 */
export class JudgedWindows {
  private current = new Map<string, WindowInput>();
  private previous = new Map<string, WindowInput>();
  private readonly generation: number;

  constructor(maxWindows: number) {
    this.generation = Math.ceil(maxWindows / 2);
  }

  /** Called with every first emission detection judges. */
  remember(agent: string, input: WindowInput): void {
    if (this.generation === 0) return;
    this.current.set(keyOf(agent, input.device, input.metric, input.ts), input);
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Map();
    }
  }

  /** What was judged of a window at its first emission, while it is remembered. */
  judged(agent: string, device: string, metric: string, end: number): WindowInput | undefined {
    const key = keyOf(agent, device, metric, end);
    return this.current.get(key) ?? this.previous.get(key);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

const keyOf = (agent: string, device: string, metric: string, end: number): string => `${agent}\u0000${device}\u0000${metric}\u0000${end}`;
