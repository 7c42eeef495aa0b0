import type { WindowInput } from '@tributary/storage';

/**
 * The detector input of recent first emissions, so that a correction of a window (`rev` > 0,
 * re-emitted after late readings) can be stored with what detection judged: live detection judges
 * a window once, at its first emission, and replay must judge the same values (storage's
 * JUDGED_FIELD). Bounded: two generations of at most `maxWindows / 2` each, the older dropped
 * whole when the newer fills (O(1) per window; evicting one by one from a Map's head costs time
 * proportional to the deletions it skips), so the latest `maxWindows / 2` to `maxWindows` are
 * remembered (of one series, its latest MAX_WALK in each generation). A correction of a window
 * forgotten is stored without them (counted by the caller). 80 bytes a window (its numbers in a
 * typed array) and map entries a series in each generation.
 */
export class JudgedWindows {
  /** The newer generation and the older. */
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
    this.current.add(agent, input);
    if (this.current.slots >= this.generation) {
      // The older generation's arrays are reused for the next one: nothing is allocated per window (a new series' map entries aside).
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
    return this.current.get(agent, w) ?? this.previous.get(agent, w);
  }

  /** Windows remembered (a window remembered twice counts twice). */
  get size(): number {
    return this.current.slots + this.previous.slots;
  }
}

/**
 * The numbers kept per slot: the judged input (a missing first or last as NaN), the window's end,
 * and the slot of its series' window remembered before it in this generation (-1: none).
 */
const NUMBERS = 10;
const END = 8;
const EARLIER = 9;

/**
 * A series' windows of one generation a lookup walks through, newest first, at most: a correction
 * comes within the agent's allowed lateness, a few windows back; this bounds what a correction of
 * a window not remembered (after a restart, say) costs when one series has most of the windows.
 */
const MAX_WALK = 4096;

/**
 * One generation: each series' newest slot by agent, device and metric, each slot the one of the
 * series before it, and the numbers of every slot in one Float64Array (80 bytes a window). Entries
 * per series, not per window, and by the names as they came (no key is made per window: a key
 * and map entry per window took about 105 bytes of heap, kept until the generation was dropped,
 * and more CPU than the rest of the work). Maps, as names are data.
 */
class Generation {
  private readonly newestOf = new Map<string, Map<string, Map<string, number>>>();
  /** Grown by doubling up to the capacity as windows come (a partition of a cluster member may see few). */
  private values = new Float64Array(0);
  /** Slots used (a window remembered twice takes a second, found first). */
  slots = 0;

  constructor(private readonly capacity: number) {}

  add(agent: string, i: WindowInput): void {
    const slot = this.slots++;
    let devices = this.newestOf.get(agent);
    if (devices === undefined) this.newestOf.set(agent, (devices = new Map()));
    let metrics = devices.get(i.device);
    if (metrics === undefined) devices.set(i.device, (metrics = new Map()));
    const earlier = metrics.get(i.metric);
    metrics.set(i.metric, slot);
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
    v[at++] = i.outOfRange ?? 0;
    v[at++] = i.ts;
    v[at] = earlier ?? -1;
  }

  get(
    agent: string,
    w: { readonly device: string; readonly metric: string; readonly start: number; readonly end: number },
  ): WindowInput | undefined {
    const v = this.values;
    let slot = this.newestOf.get(agent)?.get(w.device)?.get(w.metric) ?? -1;
    for (let walked = 0; slot >= 0 && walked < MAX_WALK; walked++) {
      const at = slot * NUMBERS;
      if (v[at + END] === w.end) return inputAt(v, at, w);
      slot = v[at + EARLIER]!;
    }
    return undefined;
  }

  clear(): void {
    this.newestOf.clear();
    this.slots = 0;
  }
}

function inputAt(
  v: Float64Array,
  at: number,
  w: { readonly device: string; readonly metric: string; readonly start: number; readonly end: number },
): WindowInput {
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
