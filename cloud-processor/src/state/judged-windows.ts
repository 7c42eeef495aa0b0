import type { WindowInput } from '@tributary/storage';

/**
 * The detector input of recent first emissions, so that a correction of a window (`rev` > 0,
 * re-emitted after late readings) can be stored with what detection judged: live detection judges
 * a window once, at its first emission, and replay must judge the same values (storage's
 * JUDGED_FIELD). Bounded: past `maxWindows` the oldest is forgotten, and a correction of it is
 * stored without them (counted by the caller).
 */
export class JudgedWindows {
  private readonly windows = new Map<string, WindowInput>();

  constructor(private readonly maxWindows: number) {}

  /** Called with every first emission detection judges. */
  remember(agent: string, input: WindowInput): void {
    const key = keyOf(agent, input.device, input.metric, input.ts);
    this.windows.delete(key);
    this.windows.set(key, input);
    if (this.windows.size > this.maxWindows) this.windows.delete(this.windows.keys().next().value!);
  }

  /** What was judged of a window at its first emission, while it is remembered. */
  judged(agent: string, device: string, metric: string, end: number): WindowInput | undefined {
    return this.windows.get(keyOf(agent, device, metric, end));
  }

  get size(): number {
    return this.windows.size;
  }
}

const keyOf = (agent: string, device: string, metric: string, end: number): string => `${agent}\u0000${device}\u0000${metric}\u0000${end}`;
