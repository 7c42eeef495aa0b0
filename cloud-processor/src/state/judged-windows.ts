import type { WindowInput } from '@tributary/storage';

/**
 * The detector input of recent first emissions, so that a correction of a window (`rev` > 0,
 * re-emitted after late readings) can be stored with what detection judged: live detection judges
 * a window once, at its first emission, and replay must judge the same values (storage's
 * JUDGED_FIELD). Bounded: two generations of at most `maxWindows / 2` each, the older dropped
 * whole when the newer fills (O(1) per window; evicting one by one from a Map's head costs time
 * proportional to the deletions it skips), so the latest `maxWindows / 2` to `maxWindows` are
 * remembered. A correction of a window forgotten is stored without them (counted by the caller).
 * About 170 bytes a window: its key and map entry (about 105 bytes of heap) and its numbers in a
 * typed array (64).
 */
export class JudgedWindows {
  /** The newer generation and the older; each maps a window's key to its slot in `values`. */
  private current: Generation;
  private previous: Generation;
  private readonly generation: number;

  constructor(maxWindows: number) {
    this.generation = Math.ceil(maxWindows / 2);
    this.current = new Generation(this.generation);
    this.previous = new Generation(this.generation);
  }

  /** Called with every first emission detection judges. */
  remember(agent: string, input: WindowInput): void {
    if (this.generation === 0) return;
    this.current.add(keyOf(agent, input.device, input.metric, input.ts), input);
    if (this.current.slots >= this.generation) {
      // The older generation's arrays are reused for the next one: nothing is allocated per window but its key.
      const older = this.previous;
      this.previous = this.current;
      older.clear();
      this.current = older;
    }
  }

  /** What was judged of a window (its series, start and end) at its first emission, while it is remembered. */
  judged(
    agent: string,
    w: { readonly device: string; readonly metric: string; readonly start: number; readonly end: number },
  ): WindowInput | undefined {
    const key = keyOf(agent, w.device, w.metric, w.end);
    return this.current.get(key, w) ?? this.previous.get(key, w);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

/** The numbers of a window input kept per slot (a missing first or last as NaN). */
const NUMBERS = 8;

/**
 * One generation: key → slot, and the judged numbers of every slot in one Float64Array (64 bytes
 * a window; an array of numbers per window took about 110 bytes of heap, and was promoted to the
 * old generation and dropped with it, a major collection's work).
 */
class Generation {
  private readonly slotOf = new Map<string, number>();
  /** Grown by doubling up to the capacity as windows come (a partition of a cluster member may see few). */
  private values = new Float64Array(0);
  /** Slots used (a window remembered twice takes a second, so this may exceed the map's size). */
  slots = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.slotOf.size;
  }

  add(key: string, i: WindowInput): void {
    const slot = this.slots++;
    this.slotOf.set(key, slot);
    if (slot * NUMBERS >= this.values.length) {
      const grown = new Float64Array(Math.min(this.capacity, Math.max(256, 2 * slot)) * NUMBERS);
      grown.set(this.values);
      this.values = grown;
    }
    const v = this.values;
    let at = slot * NUMBERS;
    v[at++] = i.count;
    v[at++] = i.value;
    v[at++] = i.min;
    v[at++] = i.max;
    v[at++] = i.stddev;
    v[at++] = i.first ?? Number.NaN;
    v[at++] = i.last ?? Number.NaN;
    v[at] = i.outOfRange ?? 0;
  }

  get(
    key: string,
    w: { readonly device: string; readonly metric: string; readonly start: number; readonly end: number },
  ): WindowInput | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    const at = slot * NUMBERS;
    const v = this.values;
    const first = v[at + 5]!;
    const last = v[at + 6]!;
    return {
      device: w.device,
      metric: w.metric,
      ts: w.end,
      lengthMs: w.end - w.start,
      value: v[at + 1]!,
      min: v[at + 2]!,
      max: v[at + 3]!,
      stddev: v[at + 4]!,
      count: v[at]!,
      ...(Number.isNaN(first) ? {} : { first }),
      ...(Number.isNaN(last) ? {} : { last }),
      outOfRange: v[at + 7]!,
    };
  }

  clear(): void {
    this.slotOf.clear();
    this.slots = 0;
  }
}

/** One flat string (join builds it in one piece; a template literal leaves a tree of concatenations behind the key). */
const keyOf = (agent: string, device: string, metric: string, end: number): string =>
  [agent, device, metric, end].join('\u0000');
